"""The `lstm-widget` console command: `lstm-widget demo` starts JupyterLab on the Japanese Vowels notebook;
`lstm-widget export` writes a standalone HTML explorer (no kernel, no network) for teaching material."""

from __future__ import annotations

import argparse
import importlib
import os
import pathlib
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

from ._core.files import write_atomic

_NOTEBOOK = "japanese_vowels.ipynb"


def demo_notebook() -> pathlib.Path:
    """The demo notebook: inside the installed package, or in the repository's notebooks/ for editable installs."""
    here = pathlib.Path(__file__).parent
    for candidate in (here / "notebooks" / _NOTEBOOK, here.parent / "notebooks" / _NOTEBOOK):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"the demo notebook {_NOTEBOOK} is not installed with this copy of lstm_widget")


def _free_port(ip: str) -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"JupyterLab exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"JupyterLab did not answer at {url} within {timeout:.0f} s")


def demo(args) -> int:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        print("lstm-widget demo needs JupyterLab: pip install 'lstm_widget[demo]'", file=sys.stderr)
        return 2
    folder = pathlib.Path(args.dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _NOTEBOOK
    if not target.exists() or args.overwrite:
        write_atomic(target, demo_notebook().read_bytes())
    port = args.port or _free_port(args.ip)
    token = secrets.token_hex(16)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.ip={args.ip}",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folder}",
        "--LabApp.news_url=None",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines often run as root
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd)
    try:
        _wait_ready(f"http://{args.ip}:{port}/api/status?token={token}", proc)
        print(
            f"\nlstm_widget demo: {target}\nopen  http://{args.ip}:{port}/lab/tree/{_NOTEBOOK}?token={token}\n"
            "run all cells (Run → Run All Cells); Ctrl-C here stops the server.\n",
            flush=True,
        )
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _load_callable(spec: str, what: str):
    """``package.module:function`` -> the function. Importing it runs that module's code, as ``python -m`` would: the
    current folder is searched first, so ``--model mymodel:net`` finds ``mymodel.py`` there."""
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise SystemExit(f"--{what} {spec!r}: expected package.module:function")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise SystemExit(f"--{what} {spec!r}: {exc}") from None


#: What ``--data`` accepts, said in every error about it.
_DATA_EXPECTED = (
    "expected japanese_vowels:train|test, an .npz file (an array X shaped (sequences, steps, features), or arrays "
    "x0, x1, ... shaped (steps, features); optional labels y, one integer per sequence), an .npy file holding X, "
    "or package.module:function returning X or (X, y)"
)


def _npy_header(f, where: str) -> tuple[tuple, object]:
    """(shape, dtype) declared by the .npy header at the start of the binary stream ``f``: nothing else is read."""
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = npy.read_array_header_2_0(f)
        else:
            raise ValueError(f"the .npy format version {version} is not supported (1.0 and 2.0 are)")
    except ValueError as exc:
        raise SystemExit(f"--data {where}: not a readable .npy array ({exc}); {_DATA_EXPECTED}") from None
    return tuple(shape), dtype


def _declared_arrays(path: str) -> dict:
    """name → (shape, dtype) of the arrays in an .npz (its members' .npy headers, read without decompressing the
    data) or an .npy file (one array, named X)."""
    import zipfile

    if path.endswith(".npy"):
        try:
            with open(path, "rb") as f:
                return {"X": _npy_header(f, repr(path))}
        except OSError as exc:
            raise SystemExit(f"--data {path!r}: {exc}") from None
    try:
        with zipfile.ZipFile(path) as archive:
            out = {}
            for info in archive.infolist():
                if info.filename.endswith(".npy"):
                    with archive.open(info) as member:
                        out[info.filename[:-4]] = _npy_header(member, f"{path!r} member {info.filename!r}")
            return out
    except (OSError, zipfile.BadZipFile) as exc:
        raise SystemExit(f"--data {path!r}: not a readable .npz file ({exc}); {_DATA_EXPECTED}") from None


def _check_declared(spec: str, declared: dict) -> tuple[list[str], list[int], int]:
    """The arrays an .npz / .npy holds checked from their declared shapes and dtypes: (the keys of the sequences in
    order, their lengths, features per step). One SystemExit naming what was expected."""
    for key, (_shape, dtype) in declared.items():
        if dtype.hasobject:
            raise SystemExit(
                f"--data {spec!r}: {key} holds Python objects (dtype object), which only pickle can read and --data "
                "never unpickles; expected numeric arrays (save ragged sequences as x0, x1, ...)"
            )
    if "X" in declared:
        shape, dtype = declared["X"]
        if len(shape) != 3:
            raise SystemExit(
                f"--data {spec!r}: X has shape {shape} ({len(shape)}-D); expected (sequences, steps, features)"
            )
        keys, shapes = ["X"], [shape[1:]] * shape[0]
    else:
        keys = [k for _, k in sorted((int(k[1:]), k) for k in declared if k[:1] == "x" and k[1:].isdigit())]
        if not keys:
            raise SystemExit(f"--data {spec!r}: holds no array X and no arrays x0, x1, ...; {_DATA_EXPECTED}")
        shapes = [declared[k][0] for k in keys]
        bad = [(k, s) for k, s in zip(keys, shapes, strict=True) if len(s) != 2]
        if bad:
            raise SystemExit(f"--data {spec!r}: {bad[0][0]} has shape {bad[0][1]}; expected (steps, features)")
    for k in keys:
        if declared[k][1].kind != "f":
            raise SystemExit(
                f"--data {spec!r}: {k} has dtype {declared[k][1]}; expected floating-point features "
                "(float16, float32 or float64)"
            )
    if not shapes or any(s[0] == 0 for s in shapes) or len({s[1] for s in shapes}) != 1:
        raise SystemExit(
            f"--data {spec!r}: the sequences have shapes {sorted(set(shapes))[:4]}; expected at least one sequence, "
            "each with at least one step and the same number of features"
        )
    if "y" in declared:
        shape, dtype = declared["y"]
        if len(shape) != 1 or shape[0] != len(shapes) or dtype.kind not in "iu":
            raise SystemExit(
                f"--data {spec!r}: y has shape {shape} and dtype {dtype}; expected {len(shapes)} integer labels "
                "(one per sequence)"
            )
    return keys, [int(s[0]) for s in shapes], int(shapes[0][1])


def _sequences_from(X, y, spec: str) -> tuple[list, object]:
    """What a ``package.module:function`` returned, checked: (a list of (steps, features) float arrays, labels)."""
    import numpy as np

    def refuse(got: str):
        raise SystemExit(f"--data {spec!r}: the function returned {got}; {_DATA_EXPECTED}")

    if isinstance(X, np.ndarray):
        if X.dtype.hasobject or X.ndim != 3:
            refuse(f"an array of shape {X.shape} and dtype {X.dtype}")
        X = list(X)
    elif isinstance(X, (list, tuple)):
        X = list(X)
    else:
        refuse(f"a {type(X).__name__}")
    for k, x in enumerate(X):
        if not hasattr(x, "shape") or len(x.shape) != 2 or (isinstance(x, np.ndarray) and x.dtype.hasobject):
            refuse(f"a sequence {k} that is not a (steps, features) array ({type(x).__name__})")
    if y is not None:
        y = np.asarray(y)
        if y.dtype.hasobject or y.ndim != 1 or len(y) != len(X):
            refuse(f"labels y of shape {y.shape} and dtype {y.dtype} for {len(X)} sequences")
    return X, y


def _load_data(spec: str, limit: int = 0, check=None):
    """``--data``: "japanese_vowels:train|test", an .npz file (array ``X`` (N, T, D) or ``x0``, ``x1``, ... (T_i, D);
    optional ``y``) or .npy file (X), read without pickle, or package.module:function returning X or (X, y).
    (sequences, labels, class names, feature names); only the first ``limit`` sequences (0: all). ``check(lengths,
    features)`` is called with the sequences' lengths before anything large is read (for a file: from the arrays'
    declared shapes, before any is decompressed)."""
    import numpy as np

    def cut(X, y):
        if limit:
            X, y = X[:limit], None if y is None else y[:limit]
        if check is not None:
            check([len(x) for x in X], int(X[0].shape[1]))
        return X, y

    if spec.startswith("japanese_vowels:"):
        from .datasets import JAPANESE_VOWELS_CLASS_NAMES, JAPANESE_VOWELS_FEATURE_NAMES, japanese_vowels

        X, y = japanese_vowels(spec.split(":", 1)[1])
        X, y = cut(list(X), y)
        return X, y, JAPANESE_VOWELS_CLASS_NAMES, JAPANESE_VOWELS_FEATURE_NAMES
    if spec.endswith((".npz", ".npy")):
        keys, lengths, features = _check_declared(spec, _declared_arrays(spec))
        n = min(limit, len(lengths)) if limit else len(lengths)
        if check is not None:
            check(lengths[:n], features)
        try:
            if spec.endswith(".npy"):
                X = list(np.load(spec, allow_pickle=False, mmap_mode="r")[:n])
                return [np.asarray(x) for x in X], None, None, None
            with np.load(spec, allow_pickle=False) as z:
                X = list(z["X"][:n]) if keys == ["X"] else [z[k] for k in keys[:n]]
                y = z["y"][:n] if "y" in z.files else None
        except (OSError, ValueError) as exc:
            raise SystemExit(f"--data {spec!r}: {exc}") from None
        return X, y, None, None
    if os.path.exists(spec) or ":" not in spec:
        raise SystemExit(
            f"--data {spec!r}: {'a file that is neither .npz nor .npy' if os.path.exists(spec) else 'no such file'}; {_DATA_EXPECTED}"
        )
    out = _load_callable(spec, "data")()
    X, y = out if isinstance(out, tuple) and len(out) == 2 else (out, None)
    X, y = _sequences_from(X, y, spec)
    X, y = cut(X, y)
    return X, y, None, None


def _check_out(out: pathlib.Path, force: bool) -> None:
    """Before any work: ``--out`` can be written — not a link, not an existing file unless ``force``, in a folder
    that exists and is writable."""
    if out.is_symlink():
        raise SystemExit(
            f"--out {str(out)!r} is a symbolic link; give the file itself (nothing is written through a link)"
        )
    if out.exists():
        if out.is_dir():
            raise SystemExit(f"--out {str(out)!r} is a folder; expected the .html file to write")
        if not force:
            raise SystemExit(f"--out {str(out)!r} exists; pass --force to replace it")
    folder = out.parent
    if not folder.is_dir():
        raise SystemExit(f"--out {str(out)!r}: the folder {str(folder)!r} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SystemExit(f"--out {str(out)!r}: the folder {str(folder)!r} is not writable")


def _size_check(model, float16: bool, spec: str):
    """``check(lengths, features)`` for :func:`_load_data`: refuses, before anything is recorded, an export that
    would exceed the memory budget or the page limit, saying how many sequences fit."""
    import lstm_widget

    from ._core.model import describe
    from ._core.recording.recorder import values_per_step

    described = describe(model)
    itemsize = 2 if float16 else 4

    def check(lengths, features):
        per_step = values_per_step(described, features)
        steps = sum(lengths)

        def fitting(bytes_per_step, limit):
            total, n = 0, 0
            for T in lengths:
                total += T * bytes_per_step
                if total > limit:
                    break
                n += 1
            return n

        what = f"--data {spec!r}: {len(lengths)} sequences of {steps} steps in all"
        budget = lstm_widget.MEMORY_BUDGET
        if 4 * steps * per_step > budget:
            n = fitting(4 * per_step, budget)
            raise SystemExit(
                f"{what} would need about {4 * steps * per_step / 2**20:.0f} MiB of memory to record; the budget is "
                f"{budget / 2**20:.0f} MiB (lstm_widget.MEMORY_BUDGET) — use --limit {max(n, 1)} (the first {n} fit) "
                "or shorter sequences"
            )
        page = lstm_widget.PAGE_BYTES_LIMIT
        if steps * (per_step + 3) * itemsize > page:
            n = fitting((per_step + 3) * itemsize, page)
            raise SystemExit(
                f"{what} would make a page of about {steps * (per_step + 3) * itemsize / 2**20:.0f} MiB; a page holds "
                f"at most {page / 2**20:.0f} MiB (lstm_widget.PAGE_BYTES_LIMIT) — use --limit {max(n, 1)} (the "
                f"first {n} fit){'' if float16 else ', --float16 (halves it)'} or shorter sequences"
            )

    return check


def export(args) -> int:
    out = pathlib.Path(args.out)
    _check_out(out, args.force)
    try:
        args.title.encode("utf-8")
    except UnicodeEncodeError:
        raise SystemExit(
            f"--title {args.title!r} is not valid UTF-8 text (the shell passed bytes that are not); give it in UTF-8"
        ) from None
    if args.limit < 0:
        raise SystemExit(f"--limit {args.limit}: expected a number of sequences (0 for all)")
    model = _load_callable(args.model, "model")()
    check = _size_check(model, args.float16, args.data)
    X, y, class_names, feature_names = _load_data(args.data, args.limit, check)
    from ._widget.explorer import Explorer

    try:
        ex = Explorer(model, X, y, class_names=class_names, feature_names=feature_names)
    except (ValueError, TypeError) as exc:
        raise SystemExit(f"lstm-widget export --data {args.data!r}: {exc}") from None
    # every sequence read (--limit chooses how many), not save_html's default of the current one and its neighbours
    size = ex.save_html(
        out, sequences="all", wire_dtype="float16" if args.float16 else None, title=args.title, quiet=True
    )
    print(
        f"wrote {out} ({size / 2**20:.2f} MiB, {len(X)} sequences"
        f"{', float16' if args.float16 else ''}): open it in a browser, no kernel or network needed"
    )
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="lstm-widget", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="start JupyterLab on a copy of the Japanese Vowels notebook and print its URL")
    p.add_argument("--dir", default="lstm_widget_demo", help="folder for the notebook copy (default: %(default)s)")
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="default: a free port")
    p.add_argument("--overwrite", action="store_true", help="replace an existing copy of the notebook")
    p.set_defaults(func=demo)
    p = sub.add_parser("export", help="write a standalone HTML explorer that plays back with no kernel or network")
    p.add_argument("--out", required=True, help="the HTML file to write, e.g. lesson.html")
    p.add_argument(
        "--model",
        default="lstm_widget.models:japanese_vowels_net",
        help="package.module:function returning the torch model; the module is imported and the function run, "
        "the current folder searched first (default: %(default)s)",
    )
    p.add_argument(
        "--data",
        default="japanese_vowels:test",
        help="japanese_vowels:train|test, an .npz file (X or x0, x1, ...; optional y), an .npy file (X), or "
        "package.module:function returning X or (X, y), imported and run (default: %(default)s)",
    )
    p.add_argument("--limit", type=int, default=40, help="first N sequences only, 0 for all (default: %(default)s)")
    p.add_argument("--float16", action="store_true", help="half the size: values as float16")
    p.add_argument("--title", default="LSTM explorer", help="the page's title")
    p.add_argument("--force", action="store_true", help="replace --out when it exists")
    p.set_defaults(func=export)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
