"""Classify digit images in a folder, or camera frames with --camera (picamera2), on a device.

Needs only numpy, Pillow and one interpreter (ai-edge-litert, tflite-runtime or onnxruntime).
Works with edge-mnist installed, or with the runtime/ folder copied next to this script.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

try:
    from edge_mnist.runtime import Classifier, EdgeMnistError
    from edge_mnist.runtime.predict import expand_inputs
    from edge_mnist.runtime.textfmt import confidence as percent
except ImportError:  # runtime/ copied alone next to this script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from runtime import Classifier, EdgeMnistError  # type: ignore[no-redef]
    from runtime.predict import expand_inputs  # type: ignore[no-redef]
    from runtime.textfmt import confidence as percent  # type: ignore[no-redef]


def classify_folder(clf: Classifier, folder: Path) -> None:
    for path in expand_inputs([folder]):
        try:
            pred = clf.classify_image(path)
        except EdgeMnistError as exc:
            print(f"{path.name}: {exc}", file=sys.stderr)
            continue
        digit, confidence = pred.top(1)[0][0]
        print(f"{path.name}: {digit} ({percent(confidence)})")


def classify_camera(clf: Classifier, interval: float) -> None:
    try:
        from picamera2 import Picamera2  # type: ignore[import-not-found]
    except ImportError:
        sys.exit("picamera2 is not installed: sudo apt install -y python3-picamera2")
    from PIL import Image

    camera = Picamera2()
    camera.configure(camera.create_still_configuration(main={"size": (640, 480)}))
    camera.start()
    try:
        while True:
            frame = Image.fromarray(camera.capture_array()).convert("L")
            try:
                pred = clf.classify_image(frame)
                digit, confidence = pred.top(1)[0][0]
                print(f"digit {digit} ({percent(confidence)})", flush=True)
            except EdgeMnistError as exc:
                print(f"no digit: {exc.problem}", flush=True)
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        camera.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="a .tflite or .onnx model")
    parser.add_argument("folder", type=Path, nargs="?", help="a folder of digit images")
    parser.add_argument("--camera", action="store_true", help="classify camera frames (picamera2)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between frames")
    args = parser.parse_args()
    try:
        clf = Classifier.load(args.model)
        if args.camera:
            classify_camera(clf, args.interval)
        elif args.folder:
            classify_folder(clf, args.folder)
        else:
            parser.error("give a folder of images or --camera")
    except EdgeMnistError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
