"""Export fitted classifiers to ONNX, for inference without Python or pickles."""

from ._onnx import OPSET, to_onnx

__all__ = ["OPSET", "to_onnx"]
