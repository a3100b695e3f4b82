"""The mouth model's training code, shared by `scripts/train_mouth_model.py` and its tests.

- `config`: `TrainConfig`, each setting with the held-out checks behind its value;
- `clips`: the cached clips as training data, and the augmented log-mel copies of each;
- `net`: the PyTorch twin of the shipped trunk, the training loop and its losses.
"""
