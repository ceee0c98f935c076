#!/usr/bin/python3
"""Generate benign pickle fixtures with the REAL ML libraries.

Run from the repository root with the Debian interpreter (it has torch, sklearn, ...):

    /usr/bin/python3 testdata/pickles/gen/gen_benign.py

Every file written to testdata/pickles/benign/ is a PLAIN pickle stream (one or more
pickles back to back, no zip/tar/compression, no raw bytes between or after them).
torch.save() writes a zip; we extract its data.pkl member. The legacy (non-zip) torch
format is a run of pickles followed by raw storage bytes; we keep only the pickles.

These files must never raise an alarm in hallmark. Their globals are measured by
measure_globals.py into pickle/rules/allow.txt.

Deterministic where possible: fixed seeds, and PYTHONHASHSEED=0 (the script re-executes
itself with it, so that sets of strings pickle in a stable order).
"""

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    env = dict(os.environ, PYTHONHASHSEED="0")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import collections
import datetime
import decimal
import functools
import hashlib
import io
import json
import pickle
import pickletools
import platform
import random
import re
import warnings
import zipfile

warnings.filterwarnings("ignore")

import joblib
import numpy as np
import scipy
import scipy.sparse
import sklearn
import torch

try:
    import xgboost
except Exception:  # optional
    xgboost = None
try:
    import lightgbm
except Exception:  # optional
    lightgbm = None

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "benign"))
PROTOCOLS = (0, 2, 4, 5)

manifest = []


def check_plain_pickles(data, name):
    """Assert data is one or more complete pickles back to back and nothing else."""
    f = io.BytesIO(data)
    n = 0
    while f.tell() < len(data):
        last = None
        for op, _arg, _pos in pickletools.genops(f):
            last = op.name
        if last != "STOP":
            raise SystemExit(f"{name}: pickle stream not terminated by STOP")
        n += 1
    if n == 0:
        raise SystemExit(f"{name}: empty")
    return n


def write(name, data, made_by, protocol=None):
    streams = check_plain_pickles(data, name)
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(data)
    entry = {
        "file": name,
        "made_by": made_by,
        "bytes": len(data),
        "pickles": streams,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if protocol is not None:
        entry["protocol"] = protocol
    manifest.append(entry)


# ---------------------------------------------------------------------------
# PyTorch: torch.save -> zip -> data.pkl
# ---------------------------------------------------------------------------

TV = torch.__version__


def torch_data_pkl(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    names = [n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
    assert len(names) == 1, z.namelist()
    return z.read(names[0])


def save_torch(what, obj):
    write(f"torch_{what}.data.pkl", torch_data_pkl(obj),
          f"torch {TV} torch.save → data.pkl")


class SmallNet(torch.nn.Module):
    # Only used for its state_dict (whose pickle does not reference this class).
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 3)
        self.bn = torch.nn.BatchNorm2d(2)
        self.fc = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.bn(self.conv(x)), 1))


def gen_torch():
    torch.manual_seed(0)
    net = SmallNet()
    sd = net.state_dict()
    sd["fc_half.weight"] = net.fc.weight.detach().half()
    sd["fc_bf16.weight"] = net.fc.weight.detach().to(torch.bfloat16)
    sd["int8_table"] = torch.arange(-8, 8, dtype=torch.int8)
    sd["bool_mask"] = torch.tensor([True, False, True])
    sd["f64"] = torch.linspace(0, 1, 5, dtype=torch.float64)
    save_torch("state_dict", sd)

    q = torch.quantize_per_tensor(torch.linspace(-1, 1, 8), 0.05, 0, torch.qint8)
    qc = torch.quantize_per_channel(torch.randn(2, 3), torch.tensor([0.1, 0.2]),
                                    torch.tensor([0, 1]), 0, torch.quint8)
    save_torch("quantized", {"q_per_tensor": q, "q_per_channel": qc})

    seq = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3, padding=1),
        torch.nn.BatchNorm2d(2),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.1),
        torch.nn.Linear(8, 4),
        torch.nn.GELU(),
        torch.nn.LayerNorm(4),
        torch.nn.Linear(4, 2),
    )
    seq.eval()
    save_torch("sequential_module", seq)

    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(4, 1, 4, 4)
    net(x).sum().backward()
    opt.step()
    save_torch("adam_state_dict", opt.state_dict())

    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    sched.step()
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    save_torch("checkpoint", {
        "epoch": 3,
        "global_step": 1200,
        "model_state_dict": net.state_dict(),
        "optimizer_state_dict": opt.state_dict(),
        "scheduler_state_dict": sched.state_dict(),
        "cosine_state_dict": cosine.state_dict(),
        "best_metric": 0.8125,
        "config": {"lr": 1e-3, "batch_size": 32, "layers": [1, 2, 3], "name": "smallnet"},
    })

    # What HF Trainer writes as rng_state.pth: python, numpy and torch RNG states.
    random.seed(0)
    np.random.seed(0)
    save_torch("rng_state", {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "cpu": torch.random.get_rng_state(),
    })

    save_torch("size", torch.Size([3, 224, 224]))
    save_torch("device", {"device": torch.device("cpu"), "cuda0": torch.device("cuda", 0)})
    save_torch("dtypes", [torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.bool])
    save_torch("sparse_coo", torch.eye(4).to_sparse())
    try:
        save_torch("sparse_csr", torch.eye(4).to_sparse_csr())
    except Exception as e:  # pragma: no cover
        print("skip sparse_csr:", e)
    save_torch("parameter", torch.nn.Parameter(torch.ones(2, 2)))
    save_torch("nested", [{"a": torch.zeros(2), "b": [torch.ones(1, dtype=torch.int64), {"c": torch.tensor(1.5)}]},
                          ("tuple", torch.arange(3)), 7])

    # Legacy (pre-1.6, non-zip) torch.save: 5 pickles back to back, then raw storage
    # bytes. Keep only the pickles.
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf, _use_new_zipfile_serialization=False)
    raw = buf.getvalue()
    f = io.BytesIO(raw)
    for _ in range(5):
        for _op in pickletools.genops(f):
            pass
    write("torch_legacy_state_dict_p2.pkl", raw[: f.tell()],
          f"torch {TV} torch.save(_use_new_zipfile_serialization=False) → the 5 leading pickles (raw storage bytes dropped)",
          protocol=2)

    # TorchScript: data.pkl and constants.pkl from torch.jit.save of a scripted
    # module built only from torch.nn modules (so no user class names appear).
    try:
        sm = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU()))
        buf = io.BytesIO()
        torch.jit.save(sm, buf)
        z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
        for n in z.namelist():
            base = n.rsplit("/", 1)[-1]
            if base in ("data.pkl", "constants.pkl"):
                write(f"torch_jit_sequential.{base}", z.read(n),
                      f"torch {TV} torch.jit.script + torch.jit.save → {base}")
    except Exception as e:  # pragma: no cover
        print("skip torchscript:", e)

    # functools.partial(BatchNorm2d, eps=1e-3), as torchvision passes norm_layer.
    for p in PROTOCOLS:
        write(f"torch_partial_norm_layer_p{p}.pkl",
              pickle.dumps(functools.partial(torch.nn.BatchNorm2d, eps=1e-3), protocol=p),
              f"torch {TV} pickle.dumps(functools.partial(torch.nn.BatchNorm2d, eps=1e-3))", p)


# ---------------------------------------------------------------------------
# pickle.dumps of numpy / scipy / sklearn / stdlib objects
# ---------------------------------------------------------------------------

def dumps_all(prefix, obj, made_by):
    for p in PROTOCOLS:
        write(f"{prefix}_p{p}.pkl", pickle.dumps(obj, protocol=p), made_by + f" pickle.dumps(protocol={p})", p)


def gen_numpy_scipy():
    nv = f"numpy {np.__version__}"
    rs = np.random.RandomState(0)
    dumps_all("numpy_float32", rs.rand(3, 4).astype(np.float32), nv)
    dumps_all("numpy_int64", np.arange(12, dtype=np.int64).reshape(3, 4), nv)
    dumps_all("numpy_fortran_float64", np.asfortranarray(rs.rand(2, 3)), nv)
    dumps_all("numpy_object_strings", np.array(["alpha", "beta", "gamma", None], dtype=object), nv)
    dumps_all("numpy_structured", np.array([(1, 2.5, b"ab"), (2, -1.0, b"cd")],
                                           dtype=[("id", "<i4"), ("score", "<f8"), ("tag", "S2")]), nv)
    dumps_all("numpy_unicode", np.array(["x", "yz"]), nv)
    dumps_all("numpy_0d", np.array(3.5), nv)
    dumps_all("numpy_float64_scalar", np.float64(2.75), nv)
    dumps_all("numpy_scalars", [np.int32(7), np.bool_(True), np.float16(1.5), np.complex64(1 + 2j), np.str_("s")], nv)
    dumps_all("numpy_dtype", [np.dtype("float32"), np.dtype([("a", "<i8"), ("b", "<f4")])], nv)
    dumps_all("numpy_randomstate", np.random.RandomState(42), nv)
    dumps_all("numpy_default_rng", np.random.default_rng(42), nv)
    dumps_all("numpy_masked_array", np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]), nv)

    sv = f"scipy {scipy.__version__}"
    dense = np.array([[0, 1.5, 0], [2.0, 0, 0], [0, 0, 3.0]])
    dumps_all("scipy_csr", scipy.sparse.csr_matrix(dense), sv)
    dumps_all("scipy_coo", scipy.sparse.coo_matrix(dense), sv)
    dumps_all("scipy_csc", scipy.sparse.csc_matrix(dense), sv)


def gen_sklearn():
    from sklearn.cluster import KMeans
    from sklearn.datasets import load_iris
    from sklearn.decomposition import PCA
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    v = f"scikit-learn {sklearn.__version__} (numpy {np.__version__}, scipy {scipy.__version__})"
    X, y = load_iris(return_X_y=True)
    X, y = X[::5], y[::5]  # 30 rows
    objs = {
        "logreg": LogisticRegression(max_iter=500).fit(X, y),
        "random_forest": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y),
        "pipeline_scaler_pca_svc": Pipeline([("scaler", StandardScaler()), ("pca", PCA(n_components=2, random_state=0)),
                                             ("svc", SVC(random_state=0))]).fit(X, y),
        "gradient_boosting_regressor": GradientBoostingRegressor(n_estimators=3, max_depth=2, random_state=0).fit(X, X[:, 0]),
        "kmeans": KMeans(n_clusters=3, n_init=3, random_state=0).fit(X),
        "decision_tree": DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y),
        "tfidf": TfidfVectorizer(stop_words="english").fit(
            ["the cat sat on the mat", "a dog ate my homework", "models are files too"]),
        "label_encoder": LabelEncoder().fit(["cat", "dog", "bird", "cat"]),
        "onehot_encoder": OneHotEncoder(handle_unknown="ignore").fit([["red", 1], ["green", 2], ["blue", 1]]),
    }
    for name, obj in objs.items():
        dumps_all(f"sklearn_{name}", obj, v)
    try:
        dumps_all("sklearn_bound_method", objs["logreg"].predict_proba, v)
    except Exception as e:  # pragma: no cover
        print("skip bound method:", e)

    if xgboost is not None:
        xv = f"xgboost {xgboost.__version__}"
        clf = xgboost.XGBClassifier(n_estimators=3, max_depth=2, random_state=0, n_jobs=1, tree_method="exact")
        clf.fit(X, y)
        for p in (2, 4, 5):  # protocol 0 cannot pickle the booster's bytearray cleanly
            write(f"xgboost_xgbclassifier_p{p}.pkl", pickle.dumps(clf, protocol=p), xv + f" pickle.dumps(protocol={p})", p)
    if lightgbm is not None:  # not packaged in Debian bookworm
        lv = f"lightgbm {lightgbm.__version__}"
        clf = lightgbm.LGBMClassifier(n_estimators=3, random_state=0).fit(X, y)
        dumps_all("lightgbm_lgbmclassifier", clf, lv)


def gen_stdlib():
    v = f"python {platform.python_version()}"
    dd = collections.defaultdict(list)
    dd["a"].append(1)
    dd["b"].extend([2, 3])
    objs = {
        "ordereddict": collections.OrderedDict([("w", 1), ("b", 2)]),
        "defaultdict_list": dd,
        "counter": collections.Counter("abracadabra"),
        "deque": collections.deque([1, 2, 3], maxlen=5),
        "datetime": [datetime.datetime(2024, 1, 2, 3, 4, 5, 6), datetime.date(2024, 2, 29),
                     datetime.timedelta(days=1, seconds=2), datetime.time(12, 30),
                     datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc)],
        "decimal": decimal.Decimal("3.14159"),
        "misc": [complex(1, -2), {1, 2, 3}, frozenset({4, 5}), bytearray(b"\x00\x01"), range(0, 10, 2),
                 slice(1, 5, 2), b"raw-bytes", "unicode-é", 2 ** 70, -1.5, None, True, (), ((1,),)],
        "enum_regexflag": [re.IGNORECASE, re.MULTILINE],
    }
    for name, obj in objs.items():
        dumps_all(f"stdlib_{name}", obj, v)


def gen_joblib():
    v = f"joblib {joblib.__version__}"
    obj = {"name": "tiny", "params": {"alpha": 0.5, "layers": [4, 2]}, "classes": ["a", "b"], "version": 3}
    for p in (2, 4, 5):
        path = os.path.join(OUT, f"joblib_dict_p{p}.pkl")
        joblib.dump(obj, path, protocol=p)
        with open(path, "rb") as fh:
            data = fh.read()
        os.remove(path)
        write(f"joblib_dict_p{p}.pkl", data, v + f" joblib.dump(dict, protocol={p}) (no numpy arrays → plain pickle)", p)


def main():
    os.makedirs(OUT, exist_ok=True)
    for n in os.listdir(OUT):
        if n.endswith(".pkl") or n == "manifest.json":
            os.remove(os.path.join(OUT, n))
    gen_torch()
    gen_numpy_scipy()
    gen_sklearn()
    gen_stdlib()
    gen_joblib()
    manifest.sort(key=lambda e: e["file"])
    versions = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
    }
    if xgboost is not None:
        versions["xgboost"] = xgboost.__version__
    if lightgbm is not None:
        versions["lightgbm"] = lightgbm.__version__
    with open(os.path.join(OUT, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    total = sum(e["bytes"] for e in manifest)
    print(f"wrote {len(manifest)} fixtures, {total} bytes, into {OUT}")
    print("versions:", ", ".join(f"{k} {v}" for k, v in versions.items()))
    if total >= 6 * 1024 * 1024:
        raise SystemExit("fixtures exceed 6 MiB")


if __name__ == "__main__":
    main()
