"""Register libwalguard's VFS "walguard" for Python's sqlite3 module.

    import sqlite3, walguard_sqlite
    walguard_sqlite.register()            # or register(path, make_default=True)
    con = sqlite3.connect("file:app.db?vfs=walguard", uri=True)

register() loads the extension through sqlite3's own load_extension when
this Python has it (Debian's python3 does), and otherwise, for Pythons
built without extension loading (pyenv's default build, macOS's system
Python), through ctypes: it calls sqlite3_load_extension of the SQLite
library Python's _sqlite3 module is linked with, on a private connection.
That needs Python's SQLite to be a shared library that allows extension
loading (it is on Debian and most Linux distributions); otherwise register
raises RuntimeError saying so.

The extension stays loaded for the life of the process, and the VFS is
registered once per process: calling register again is harmless.
"""

import ctypes
import os
import sqlite3

__all__ = ["register", "library_path"]

_ENTRY = "sqlite3_walguard_init"
_ENTRY_DEFAULT = "sqlite3_walguarddefault_init"
_SQLITE_OPEN_READWRITE = 0x02
_SQLITE_OPEN_CREATE = 0x04


def library_path():
    """The path of libwalguard.so: $WALGUARD_LIB, else next to this file or in its parent directory."""
    env = os.environ.get("WALGUARD_LIB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (here, os.path.dirname(here)):
        p = os.path.join(d, "libwalguard.so")
        if os.path.exists(p):
            return p
    raise RuntimeError("walguard: libwalguard.so not found next to %s; build it (see README) or set WALGUARD_LIB" % __file__)


def register(path=None, make_default=False):
    """Register the VFS "walguard"; with make_default, make it the process's default VFS.

    Returns "load_extension" or "ctypes", the way it was loaded.
    """
    path = path or library_path()
    entry = _ENTRY_DEFAULT if make_default else _ENTRY
    con = sqlite3.connect(":memory:")
    try:
        if hasattr(con, "enable_load_extension"):
            con.enable_load_extension(True)
            # The SQL function takes an entry point on every Python version.
            con.execute("select load_extension(?, ?)", (path, entry)).fetchall()
            return "load_extension"
    finally:
        con.close()
    _register_with_ctypes(path, entry)
    return "ctypes"


def _register_with_ctypes(path, entry):
    import _sqlite3

    # A handle on the _sqlite3 module resolves symbols through the libraries
    # it is linked with: the very SQLite that Python's sqlite3 uses.
    try:
        lib = ctypes.CDLL(_sqlite3.__file__)
        open_v2 = lib.sqlite3_open_v2
        enable = lib.sqlite3_enable_load_extension
        load = lib.sqlite3_load_extension
        close = lib.sqlite3_close
        free = lib.sqlite3_free
    except (OSError, AttributeError) as e:
        raise RuntimeError(
            "walguard: this Python's sqlite3 is built without extension loading and its SQLite is not a shared "
            "library that ctypes can reach (%s); use a Python whose sqlite3 can load extensions" % e
        )
    open_v2.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_char_p]
    enable.argtypes = [ctypes.c_void_p, ctypes.c_int]
    load.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
    close.argtypes = [ctypes.c_void_p]
    free.argtypes = [ctypes.c_void_p]
    db = ctypes.c_void_p()
    rc = open_v2(b":memory:", ctypes.byref(db), _SQLITE_OPEN_READWRITE | _SQLITE_OPEN_CREATE, None)
    if rc != 0:
        close(db)
        raise RuntimeError("walguard: sqlite3_open_v2 of a private connection failed with code %d" % rc)
    try:
        rc = enable(db, 1)
        if rc != 0:
            raise RuntimeError("walguard: SQLite refused to enable extension loading (code %d)" % rc)
        err = ctypes.c_char_p()
        rc = load(db, os.fsencode(path), entry.encode(), ctypes.byref(err))
        if rc != 0:
            msg = err.value.decode(errors="replace") if err.value else "code %d" % rc
            raise RuntimeError("walguard: loading %s failed: %s" % (path, msg))
    finally:
        close(db)
