"""banknote_guard.model: the Siamese (metric-learning) engine.

- :mod:`~banknote_guard.model.backbones`: ``create_backbone(name, weights=...)`` and the registry.
- :mod:`~banknote_guard.model.network`: :class:`EmbeddingNet` (backbone + projection + L2 norm).
- :mod:`~banknote_guard.model.distances`: squared Euclidean / cosine, torch and numpy.
- :mod:`~banknote_guard.model.losses`: contrastive, triplet, quadruplet losses, ``create_loss``.
- :mod:`~banknote_guard.model.sampler`: class keys and P x K batches; :mod:`~banknote_guard.model.split`.
- :mod:`~banknote_guard.model.preprocess`, :mod:`~banknote_guard.model.augment`: input pipeline.
- :mod:`~banknote_guard.model.embedder`: batch inference; :mod:`~banknote_guard.model.trainer`: training.
- :mod:`~banknote_guard.model.onnx_runtime`: inference with onnxruntime from the model file's ONNX graph
  (no torch); :mod:`~banknote_guard.model.onnx_export`: the export when a model is saved.
- :mod:`~banknote_guard.model.specs`: what verification needs to know of a backbone, without torch;
  :mod:`~banknote_guard.model.requirements`: which work needs torch (the training extra).
"""
