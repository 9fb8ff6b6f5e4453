"""Shared-memory frame slots (nanobot.slots): writing, leasing, reading, and what goes wrong."""

import gc
import logging
import multiprocessing
import os
import signal

import numpy as np
import pytest

from nanobot import slots
from nanobot.slots import SlotError, SlotWriter


def frame(value=7, shape=(480, 640, 3)):
    return np.full(shape, value, np.uint8)


def read_all(refs, arrays):
    return [slots.read(ref, a.dtype, a.shape, a.nbytes) for ref, a in zip(refs, arrays)]


@pytest.fixture
def writer():
    w = SlotWriter("camera/image", slots=4)
    yield w
    w.close()


def test_arrays_round_trip_through_a_slot_as_read_only_views(writer):
    arrays = [
        frame(),
        np.arange(12, dtype=">f8").reshape(3, 4),  # big endian stays big endian
        np.array(5, np.int16),  # 0-d
        np.zeros((0, 4), np.float32),
        np.arange(10, dtype=np.uint16)[::2],  # not contiguous
    ]
    refs = writer.write(arrays)
    got = read_all(refs, arrays)
    for a, g in zip(arrays, got):
        assert g.dtype == a.dtype and g.shape == a.shape
        np.testing.assert_array_equal(g, a)
        assert not g.flags.writeable
    assert isinstance(got[0].base, slots._Lease)  # a view of the slot, not a copy
    assert [r[0] for r in refs] == [os.path.basename(writer.path)] * len(arrays)
    assert all(r[3] % slots.ALIGN == 0 for r in refs)


def test_small_messages_are_left_to_travel_in_frames(writer):
    assert writer.write([np.zeros(100, np.uint8)]) is None
    assert writer.written == 0 and writer.path is None  # no file until a large message


def test_a_slot_in_use_is_never_written_and_frees_when_its_arrays_go(writer, caplog):
    kept = read_all(writer.write([frame(1)]), [frame()])[0]
    view = kept[10:20]  # a view keeps the lease as well
    del kept
    for value in range(2, 20):
        refs = writer.write([frame(value)])
        assert refs[0][1] != slots.FILE_HEADER  # never the leased first slot
    assert int(view[0, 0, 0]) == 1
    held = [read_all(writer.write([frame(v)]), [frame()])[0] for v in (30, 31, 32)]
    with caplog.at_level(logging.WARNING, "nanobot.slots"):
        assert writer.write([frame(40)]) is None  # all 4 slots leased: frames it is
    assert writer.busy == 1 and "hold all 4 shared-memory slots" in caplog.text
    assert [int(h[0, 0, 0]) for h in held] == [30, 31, 32]
    del view, held
    gc.collect()
    assert writer.write([frame(41)]) is not None


def test_a_reference_to_a_reused_slot_is_stale_not_torn(writer):
    old = writer.write([frame(1)])
    for value in range(2, 6):  # 4 slots: the fifth write reuses the first
        writer.write([frame(value)])
    with pytest.raises(SlotError) as e:
        read_all(old, [frame()])
    assert e.value.kind == "stale"


@pytest.mark.parametrize(
    "ref, problem",
    [
        ("nanobot-0-1-1-x.slots", "not [file, int, int, int]"),
        (["nanobot-0-1-1-x.slots", 4096, 2], "not [file, int, int, int]"),
        (["nanobot-0-1-1-x.slots", "4096", 2, 4160], "not [file, int, int, int]"),
        (["../../etc/passwd", 4096, 2, 4160], "not the name of a nanobot slot file"),
        (["nanobot-0-1-1-x/../../y.slots", 4096, 2, 4160], "not the name of a nanobot slot file"),
    ],
)
def test_bad_references_are_refused_with_a_reason(ref, problem):
    with pytest.raises(SlotError) as e:
        slots.read(ref, np.dtype("u1"), (4,), 4)
    assert e.value.kind == "shm" and problem in str(e.value)


def test_references_outside_the_file_or_off_a_slot_are_refused(writer):
    name, slot, gen, offset = writer.write([frame()])[0]
    for bad in ([name, slot + 4, gen, offset], [name, slot, gen, offset - 8], [name, 0, gen, 64]):
        with pytest.raises(SlotError, match="no slot starts"):
            slots.read(bad, np.dtype("u1"), (4,), 4)
    with pytest.raises(SlotError, match="lies outside"):
        slots.read([name, slot, gen, offset], np.dtype("u1"), (1 << 40,), 1 << 40)


def test_a_slot_file_that_is_gone_is_stale(writer):
    ref = writer.write([frame()])[0]
    writer.close()  # before anything here opened it
    with pytest.raises(SlotError) as e:
        slots.read(ref, np.dtype("u1"), (480, 640, 3), 921600)
    assert e.value.kind == "stale" and "its publisher closed" in str(e.value)


def test_a_file_that_is_not_a_slot_file_is_refused(shm_dir):
    with open(os.path.join(shm_dir, "nanobot-0-1-1-fake.slots"), "wb") as f:
        f.write(b"\0" * 8192)
    with pytest.raises(SlotError, match="bad magic"):
        slots.read(["nanobot-0-1-1-fake.slots", 4096, 2, 4160], np.dtype("u1"), (4,), 4)


def test_a_larger_message_moves_the_ring_to_a_new_file(writer, shm_dir):
    writer.write([frame(shape=(240, 320, 3))])
    first = writer.path
    refs = writer.write([frame(9)])
    assert writer.path != first and not os.path.exists(first)
    assert int(read_all(refs, [frame()])[0][0, 0, 0]) == 9
    assert os.listdir(shm_dir) == [os.path.basename(writer.path)]


def test_close_removes_the_file_and_stale_files_of_dead_processes_go(shm_dir):
    w = SlotWriter("t")
    w.write([frame()])
    path = w.path
    w.close()
    assert not os.path.exists(path)
    uid = os.getuid()
    child = multiprocessing.get_context("spawn").Process(target=os.getpid)
    child.start()
    child.join()
    dead = os.path.join(shm_dir, "nanobot-%d-%d-1-t.slots" % (uid, child.pid))
    alive = os.path.join(shm_dir, "nanobot-%d-%d-1-t.slots" % (uid, os.getpid()))
    other = os.path.join(shm_dir, "unrelated.slots")
    for p in (dead, alive, other):
        open(p, "wb").close()
    assert slots.remove_stale() == 1
    assert not os.path.exists(dead) and os.path.exists(alive) and os.path.exists(other)


def _hold_slot(ref, shape, conn, shm_dir):
    """Child: lease the slot, report, then wait to be told to let go (or be killed)."""
    os.environ["NANOBOT_SHM_DIR"] = shm_dir
    arr = slots.read(ref, np.dtype("u1"), shape, int(np.prod(shape)))
    conn.send(int(arr[0, 0, 0]))
    conn.recv()
    del arr
    conn.send("released")
    conn.recv()


@pytest.mark.parametrize("ending", ["release", "kill"])
def test_a_lease_held_by_another_process_blocks_the_slot_until_it_ends(writer, shm_dir, ending):
    held = writer.write([frame(5)])[0]
    spawn = multiprocessing.get_context("spawn")
    parent, child_conn = spawn.Pipe()
    child = spawn.Process(target=_hold_slot, args=(held, (480, 640, 3), child_conn, shm_dir))
    child.start()
    try:
        assert parent.recv() == 5  # the child holds its lease now
        slots_used = {writer.write([frame(v)])[0][1] for v in range(6, 14)}
        assert held[1] not in slots_used and len(slots_used) == 3
        if ending == "release":
            parent.send("let go")
            assert parent.recv() == "released"
        else:
            os.kill(child.pid, signal.SIGKILL)  # the kernel drops a dead process's locks
            child.join()
        slots_used = {writer.write([frame(v)])[0][1] for v in range(14, 18)}
        assert held[1] in slots_used
    finally:
        if child.is_alive():
            parent.send("exit")
        child.join()


def test_a_lease_collected_while_its_process_reads_a_slot_neither_deadlocks_nor_leaks(writer):
    """The garbage collector may drop a lease at any allocation, also inside slots.read()
    on the same thread; the lease must neither wait for the lock read() holds nor unlock a
    slot that another lease still holds."""
    refs = writer.write([frame(1)])
    kept = read_all(refs, [frame()])[0]
    cycle = [read_all(refs, [frame()])[0]]
    cycle.append(cycle)  # only the cyclic collector frees it
    del cycle
    gc.disable()
    try:
        slots._LOCK.acquire()  # as read() does, when the collector runs inside it
        gc.collect()  # the cyclic lease goes here
        slots._LOCK.release()
    finally:
        gc.enable()
    again = read_all(refs, [frame()])[0]  # counts the collected lease: 2 live leases remain
    file = slots._FILES[refs[0][0]]
    assert file.held[refs[0][1]] == 2 and not slots._RELEASED
    for value in range(2, 12):
        assert writer.write([frame(value)])[0][1] != refs[0][1]  # still leased
    assert int(kept[0, 0, 0]) == int(again[0, 0, 0]) == 1
    del kept, again
    assert file.held[refs[0][1]] == 0
