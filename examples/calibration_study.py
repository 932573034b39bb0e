"""How many calibration images does int8 export need? Print the float/int8 accuracy drop per N.

A host script (TensorFlow): for each calibration size N and each draw seed it converts the Keras
model to full-integer int8 TFLite exactly as ``edge-mnist export --calibration-samples N`` does
(seed 0 is the draw export uses), measures the int8 test accuracy on all 10,000 test images and,
with ``--layers``, the worst layer's SNR from the quantization report.

    python examples/calibration_study.py artifacts/model.keras --samples 100,500,2000 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from edge_mnist.converters import to_tflite
from edge_mnist.data import Mnist, load_mnist
from edge_mnist.evaluate import accuracy, classifier_probabilities, keras_probabilities, load_keras
from edge_mnist.export import CALIBRATION_SEED, calibration_set
from edge_mnist.runtime import Classifier
from edge_mnist.tf import quiet_native_stderr


def draw(data: Mnist, samples: int, seed: int) -> np.ndarray:
    """The export's own draw for its seed; the same kind of draw for any other seed."""
    if seed == CALIBRATION_SEED:
        return calibration_set(data, samples)
    rng = np.random.default_rng(seed)
    return data.x_train[np.sort(rng.choice(len(data.x_train), samples, replace=False))]


def worst_layer(path: Path, float_path: Path, data_dir: Path | None) -> str:
    """The worst layer's own SNR and the output's SNR from the quantization report."""
    from edge_mnist.cli.quant_report import short_name
    from edge_mnist.quant_report_run import run_quant_report

    report = run_quant_report(path, reference=float_path, limit=1000, data_dir=data_dir)
    worst = report["worst_layer"]
    row = report["layers"][report["worst_index"]]
    return f"{short_name(worst, row['op'])}: own SNR {row['layer_snr_db']:.1f} dB, output SNR {report['layers'][-1]['snr_db']:.1f} dB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="the trained .keras model")
    parser.add_argument("--samples", default="100,500,2000", help="calibration sizes, comma list")
    parser.add_argument("--seeds", default="0", help="calibration draw seeds, comma list")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--layers", action="store_true", help="add the worst layer's SNR")
    args = parser.parse_args()
    sizes = [int(s) for s in args.samples.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]

    data = load_mnist(args.data_dir)
    model = load_keras(args.model)
    float_acc = accuracy(keras_probabilities(model, data.x_test), data.y_test)
    print(f"float Keras model: {float_acc:.2%} test accuracy (10,000 images)")
    print(f"{'N':>6} {'seed':>4} {'int8 acc':>9} {'drop pp':>8} {'convert':>8}  worst layer")
    with tempfile.TemporaryDirectory() as tmp:
        float_path = Path(tmp) / "model_float32.tflite"
        if args.layers:
            with quiet_native_stderr():
                float_path.write_bytes(to_tflite(model, "none"))
        drops: dict[int, list[float]] = {}
        for n in sizes:
            for seed in seeds:
                start = time.perf_counter()
                with quiet_native_stderr():
                    blob = to_tflite(model, "int8", draw(data, n, seed))
                seconds = time.perf_counter() - start
                path = Path(tmp) / f"model_int8_n{n}_s{seed}.tflite"
                path.write_bytes(blob)
                acc = accuracy(
                    classifier_probabilities(Classifier.load(path), data.x_test), data.y_test
                )
                drop = (float_acc - acc) * 100
                drops.setdefault(n, []).append(drop)
                layer = worst_layer(path, float_path, args.data_dir) if args.layers else ""
                print(f"{n:>6} {seed:>4} {acc:>9.2%} {drop:>8.2f} {seconds:>7.1f}s  {layer}")
        print(
            "mean drop per N (pp): " + ", ".join(f"{n}: {np.mean(d):.3f}" for n, d in drops.items())
        )


if __name__ == "__main__":
    main()
