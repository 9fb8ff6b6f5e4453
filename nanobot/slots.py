"""Shared-memory frame slots: how large arrays reach subscribers on the same host.

A publisher whose topic has subscribers on its host copies each large message's arrays into
a free slot of a ring kept in a file under /dev/shm (a SlotWriter) and sends only the header,
which says where the arrays are (docs/protocol.md, section 10). A subscriber's node gets them
as read-only numpy arrays over the slot itself (read()): no copy, whatever the frame size.

A slot is leased while any array over it lives: the reading process holds a shared lock
(fcntl) on the slot's first byte, dropped when the last array (or view of it) is garbage,
or by the kernel if the process dies. The publisher writes only slots it can lock
exclusively, and when readers hold them all, it sends the arrays in frames instead. Each
slot starts with a generation word, odd while the publisher writes and then the even value
that headers name, so a reader that comes after a slot was reused drops the message (it is
counted, like any late frame) and never sees it torn.

Files are named nanobot-<uid>-<pid>-<n>-<percent-encoded topic>.slots; a publisher removes its
own when it closes, and the first writer in a process removes those of processes that died.
"""

import collections
import fcntl
import glob
import itertools
import logging
import mmap
import os
import re
import tempfile
import threading
from urllib.parse import quote

import numpy as np

log = logging.getLogger("nanobot.slots")

MAGIC = b"NBSLOTS1"
ALIGN = 64  # arrays start on cache lines
PAGE = 4096  # slots start on pages
FILE_HEADER = PAGE  # MAGIC, then slot count and slot size (u64 little endian each)
SLOT_HEADER = 64  # the generation word (u64, native order), padded to a cache line
DEFAULT_SLOTS = 8
MIN_BYTES = 16384  # messages whose arrays total less travel in frames: cheaper than a lease
MAX_OPEN_FILES = 64  # per process; beyond, files with no array leased are unmapped
FILE_NAME = re.compile(r"^nanobot-[0-9]+-[0-9]+-[0-9]+-[A-Za-z0-9_.~%-]*\.slots$")

_EXCLUSIVE = fcntl.LOCK_EX | fcntl.LOCK_NB
_SHARED = fcntl.LOCK_SH | fcntl.LOCK_NB


class SlotError(Exception):
    """Arrays that cannot be read from their slot; `kind` is 'stale' (the slot was reused,
    or its publisher closed, before the reader took it: a drop, not a fault) or 'shm' (a bad
    reference, or a file this process cannot open)."""

    def __init__(self, kind, detail):
        super().__init__(detail)
        self.kind = kind


def shm_dir():
    """Where slot files live: $NANOBOT_SHM_DIR, else /dev/shm (memory), else the temp dir."""
    configured = os.environ.get("NANOBOT_SHM_DIR")
    if configured:
        return configured
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


def _round_up(n, unit):
    return (n + unit - 1) // unit * unit


class _SlotFile:
    """One mapped slot file and the leases this process holds on its slots.

    POSIX record locks belong to the process, not the descriptor, and closing any descriptor
    of a file drops all of them: so a process opens each file once (_FILES), and counts its
    own leases per slot to lock a slot on the first and unlock it after the last."""

    def __init__(self, name, fd, mm):
        self.name = name
        self.fd = fd
        self.bytes = np.frombuffer(mm, np.uint8)
        self.address = self.bytes.__array_interface__["data"][0]
        self.words = memoryview(mm).cast("Q")  # the generation words: slots are 8-aligned
        self.held = collections.Counter()  # slot offset -> live leases in this process

    def close(self):
        os.close(self.fd)
        self.fd = None


_FILES = collections.OrderedDict()  # name -> _SlotFile opened for reading, in this process
_LOCK = threading.Lock()  # guards _FILES and every _SlotFile.held
# Leases let go of, not yet counted: a lease can go at any allocation (the garbage collector
# may run there), even on a thread inside _LOCK, so it never waits for _LOCK: see _release.
_RELEASED = collections.deque()


class _Lease:
    """The base of arrays read from a slot (numpy keeps it alive while any view lives);
    when it goes, so does this process's lease on the slot."""

    __slots__ = ("__array_interface__", "_file", "_slot")

    def __init__(self, file, slot, interface):
        self.__array_interface__ = interface
        self._file = file
        self._slot = slot

    def __del__(self):
        try:
            _release(self._file, self._slot)
        except Exception:  # at interpreter exit module globals may be gone: the kernel unlocks
            pass


def _release(file, slot):
    _RELEASED.append((file, slot))
    _settle()


def _settle():
    """Count the leases let go of, unlocking slots no lease holds now, unless another
    holder of _LOCK (maybe this very thread, further up the stack) will."""
    while _RELEASED and _LOCK.acquire(False):
        try:
            _count_released()
        finally:
            _LOCK.release()


def _count_released():
    """(Under _LOCK.)"""
    while _RELEASED:
        file, slot = _RELEASED.popleft()
        file.held[slot] -= 1
        if file.held[slot] == 0:
            del file.held[slot]
            if file.fd is not None:
                fcntl.lockf(file.fd, fcntl.LOCK_UN, 1, slot)


def read(ref, dtype, shape, nbytes):
    """A read-only array of `dtype` and `shape` (`nbytes` long) over the slot that `ref`
    ([file name, slot offset, generation, data offset]) names; raises SlotError."""
    if type(ref) is not list or len(ref) != 4 or type(ref[0]) is not str:
        raise SlotError("shm", "shm reference is not [file, int, int, int]")
    name, slot, generation, offset = ref
    if type(slot) is not int or type(generation) is not int or type(offset) is not int:
        raise SlotError("shm", "shm reference is not [file, int, int, int]")
    with _LOCK:
        _count_released()  # first: a slot this process let go of is locked no more
        file = _open(name)
        if slot % 8 or slot < FILE_HEADER or slot + SLOT_HEADER > offset or nbytes < 0:
            raise SlotError("shm", "shm reference %r: no slot starts at %d" % (ref, slot))
        if offset + nbytes > file.bytes.nbytes:
            raise SlotError(
                "shm",
                "shm reference %r lies outside %s (%d bytes)" % (ref, name, file.bytes.nbytes),
            )
        if not file.held[slot]:
            try:
                fcntl.lockf(file.fd, _SHARED, 1, slot)
            except OSError:  # the publisher holds it: it is writing the slot again
                raise SlotError("stale", "slot of %s reused before it was read" % name) from None
        file.held[slot] += 1
        _count_released()  # any lease that went while this held _LOCK
    _settle()
    lease = _Lease(
        file,
        slot,
        {
            "version": 3,
            "shape": tuple(shape),
            "typestr": dtype.str,
            "data": (file.address + offset, True),  # True: read-only
        },
    )
    if file.words[slot >> 3] != generation:
        raise SlotError("stale", "slot of %s reused before it was read" % name)
    return np.asarray(lease)


def _open(name):
    """The _SlotFile of `name` in this host's shm dir, opened once per process (under _LOCK)."""
    file = _FILES.get(name)
    if file is not None:
        _FILES.move_to_end(name)
        return file
    if not FILE_NAME.match(name):
        raise SlotError("shm", "%r is not the name of a nanobot slot file" % (name,))
    try:
        fd = os.open(os.path.join(shm_dir(), name), os.O_RDONLY)
    except FileNotFoundError:
        raise SlotError("stale", "slot file %s is gone: its publisher closed" % name) from None
    except OSError as e:
        raise SlotError("shm", "cannot open slot file %s: %s" % (name, e)) from None
    try:
        mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as e:  # ValueError: an empty file cannot be mapped
        os.close(fd)
        raise SlotError("shm", "cannot map slot file %s: %s" % (name, e)) from None
    if mm[: len(MAGIC)] != MAGIC or len(mm) % 8:
        os.close(fd)
        raise SlotError("shm", "%s is not a slot file (bad magic)" % name)
    file = _FILES[name] = _SlotFile(name, fd, mm)
    if len(_FILES) > MAX_OPEN_FILES:
        for old in [f for f in _FILES.values() if not f.held][: len(_FILES) - MAX_OPEN_FILES]:
            del _FILES[old.name]
            old.close()  # the mapping goes when no array views it
    return file


class SlotWriter:
    """The ring of slots one publisher writes its large messages' arrays into."""

    _swept = False
    _serials = itertools.count(1)  # numbers this process's ring files

    def __init__(self, topic, slots=DEFAULT_SLOTS, min_bytes=MIN_BYTES):
        if slots < 2:
            raise ValueError("a slot ring needs at least 2 slots, not %r" % (slots,))
        self.topic = topic
        self.slots = slots
        self.min_bytes = min_bytes
        self.directory = shm_dir()
        self.written = 0
        self.busy = 0  # messages sent in frames because readers held every slot
        self.path = None
        self._file = None
        self._slot_size = 0
        self._next = 0

    def write(self, arrays):
        """Copy `arrays` into a free slot. Returns one shm reference per array, [file name,
        slot offset, generation, data offset], or None when the arrays are too small to be
        worth it or readers hold every slot (they then travel in frames)."""
        sizes = [a.nbytes for a in arrays]
        if sum(sizes) < self.min_bytes:
            return None
        need = SLOT_HEADER + sum(_round_up(n, ALIGN) for n in sizes)
        if need > self._slot_size:
            self._open(need)
        file = self._file
        for _ in range(self.slots):
            slot = FILE_HEADER + self._next * self._slot_size
            self._next = (self._next + 1) % self.slots
            if self._lock(slot):
                break
        else:
            self.busy += 1
            if self.busy == 1:
                log.warning(
                    "readers hold all %d shared-memory slots of topic %r; its arrays go in "
                    "frames until one is free (a subscriber keeps frames: copy them, or raise "
                    "the output's slots)",
                    self.slots,
                    self.topic,
                )
            return None
        try:
            self.written += 1
            generation = 2 * self.written
            file.words[slot >> 3] = generation - 1  # odd while the slot changes
            refs = []
            offset = slot + SLOT_HEADER
            for arr, size in zip(arrays, sizes):
                dst = np.frombuffer(file.bytes, arr.dtype, arr.size, offset).reshape(arr.shape)
                np.copyto(dst, arr, casting="no")
                refs.append([file.name, slot, generation, offset])
                offset += _round_up(size, ALIGN)
            file.words[slot >> 3] = generation
        finally:
            fcntl.lockf(file.fd, fcntl.LOCK_UN, 1, slot)
        return refs

    def _lock(self, slot):
        """Lock `slot` for writing, if no reader (here or elsewhere) holds it."""
        reader = _FILES.get(self._file.name)
        if reader is not None and reader.held[slot]:  # a lease of this very process
            return False
        try:
            fcntl.lockf(self._file.fd, _EXCLUSIVE, 1, slot)
        except OSError:
            return False
        return True

    def _open(self, need):
        """A new ring file whose slots hold `need` bytes (the old file, if any, is removed:
        readers that mapped it keep their mapping)."""
        if not SlotWriter._swept:
            SlotWriter._swept = True
            remove_stale(self.directory)
        self.close()
        uid = os.getuid() if hasattr(os, "getuid") else 0
        serial = next(SlotWriter._serials)
        topic = quote(self.topic, safe="")
        name = "nanobot-%d-%d-%d-%s.slots" % (uid, os.getpid(), serial, topic)
        path = os.path.join(self.directory, name)
        size = _round_up(need, PAGE)
        total = FILE_HEADER + self.slots * size
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.ftruncate(fd, total)
            mm = mmap.mmap(fd, total)
        except OSError:
            os.close(fd)
            os.unlink(path)
            raise
        mm[: len(MAGIC)] = MAGIC
        np.frombuffer(mm, "<u8", 2, len(MAGIC))[:] = (self.slots, size)
        self.path, self._file, self._slot_size = path, _SlotFile(name, fd, mm), size
        self._next = 0

    def close(self):
        """Remove the ring file. Readers that have it mapped keep their mapping."""
        if self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self._file.close()
        self.path = self._file = None
        self._slot_size = 0


def remove_stale(directory=None):
    """Remove slot files of this user whose publishing process is gone; returns how many."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    removed = 0
    pattern = os.path.join(directory or shm_dir(), "nanobot-%d-*.slots" % uid)
    for path in glob.glob(pattern):
        name = os.path.basename(path)
        if FILE_NAME.match(name) and not _alive(int(name.split("-")[2])):
            try:
                os.unlink(path)
                removed += 1
            except OSError:
                pass
    return removed


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
