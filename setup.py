"""Build shim for Python 3.6 (JetPack 4.6 on the Jetson Nano).

All metadata lives in pyproject.toml. setuptools >= 61 reads it directly; Python 3.6 stops at
setuptools 59, which does not, so there this file hands the same [project] table to setup().
"""

import setuptools


def _legacy_kwargs():
    import toml  # build requirement on Python < 3.7 only (pyproject.toml)

    meta = toml.load("pyproject.toml")
    project = meta["project"]
    scripts = project.get("scripts", {})
    with open(project["readme"]) as f:
        long_description = f.read()
    return dict(
        name=project["name"],
        version=project["version"],
        description=project["description"],
        long_description=long_description,
        long_description_content_type="text/markdown",
        python_requires=project["requires-python"],
        install_requires=project["dependencies"],
        extras_require=project.get("optional-dependencies", {}),
        entry_points={"console_scripts": ["%s = %s" % kv for kv in scripts.items()]},
        packages=setuptools.find_packages(include=["nanobot*", "hal*", "sims*", "apps*"]),
        package_data={"": ["*.yaml", "*.onnx", "*.json", "*.txt"]},
    )


if int(setuptools.__version__.split(".")[0]) >= 61:
    setuptools.setup()
else:
    setuptools.setup(**_legacy_kwargs())
