"""Training results (one run, many runs) with full metadata, saved as `.npz` + JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulator.metadata import (
    check_schema,
    jsonable,
    load_archive,
    package_versions,
    save_archive,
)
from simulator.moons.mlp import MLP

__all__ = ["FitHistory", "ManyHistory", "jsonable", "package_versions"]


@dataclass
class FitHistory:
    """One `fit` run: Keras's `history.history` plus the weight trajectory.

    Attributes:
        loss: `(E,)` epoch loss as Keras reports it (sample-weighted running mean
            of the batch losses, each measured before its update).
        accuracy: `(E,)` epoch accuracy (fraction of samples classified right,
            measured like the loss).
        weights: `(R, P)` flat weights (Keras `get_weights()` order, raveled);
            row 0 is the initial point, the last row the final weights.
        steps: `(R,)` optimizer step of each row of `weights`.
        metadata: optimizer text and config, seed, epochs, batch size, shuffle,
            dtype, layer sizes, data, record mode, package versions.
    """

    loss: np.ndarray
    accuracy: np.ndarray
    weights: np.ndarray
    steps: np.ndarray
    metadata: dict = field(default_factory=dict)

    @property
    def model(self) -> MLP:
        """The network the weights belong to."""
        return MLP(tuple(self.metadata["layer_sizes"]))

    @property
    def final_weights(self) -> list[np.ndarray]:
        """Final weights as a Keras-order list (`model.set_weights` ready)."""
        return [np.array(w) for w in self.model.unflatten(self.weights[-1])]

    def save(self, path: str | Path) -> Path:
        """Writes `.npz` with the arrays and the metadata as JSON; returns the path."""
        return save_archive(
            path,
            {
                "loss": self.loss,
                "accuracy": self.accuracy,
                "weights": self.weights,
                "steps": self.steps,
            },
            {"kind": "FitHistory", **self.metadata},
        )

    @classmethod
    def load(cls, path: str | Path) -> FitHistory:
        """Reads what `save` wrote (exact round trip)."""
        arrays, metadata = load_archive(path)
        if metadata.pop("kind", None) != "FitHistory":
            raise ValueError(f"File {str(path)!r} does not hold a FitHistory.")
        check_schema(
            arrays,
            {"loss": "f:E", "accuracy": "f:E", "weights": "f:R,P", "steps": "i:R"},
            f"'{path}'",
        )
        return cls(
            arrays["loss"],
            arrays["accuracy"],
            arrays["weights"],
            arrays["steps"],
            metadata,
        )


@dataclass
class ManyHistory:
    """`fit_many`: every (optimizer, seed) pair of one vectorised run.

    Attributes:
        loss: `(O, S, E_max)` epoch losses; NaN after an optimizer's own epochs.
        accuracy: `(O, S, E_max)` epoch accuracies, NaN-padded likewise.
        weights: one `(S, R_o, P)` trajectory array per optimizer.
        steps: one `(R_o,)` step index array per optimizer.
        labels: one label per optimizer (its Keras text unless given).
        seeds: `(S,)` seeds.
        epochs: `(O,)` epochs of each optimizer.
        metadata: shared run settings plus `optimizers` (text + config each).
    """

    loss: np.ndarray
    accuracy: np.ndarray
    weights: tuple[np.ndarray, ...]
    steps: tuple[np.ndarray, ...]
    labels: tuple[str, ...]
    seeds: np.ndarray
    epochs: np.ndarray
    metadata: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def index(self, label: str | int) -> int:
        """Position of an optimizer by label (or the int itself)."""
        if isinstance(label, int | np.integer):
            if not -len(self) <= label < len(self):
                raise ValueError(
                    f"Optimizer index must be in [0, {len(self)}). Received: {label}"
                )
            return int(label) % len(self)
        if label not in self.labels:
            raise ValueError(
                f"Unknown optimizer label {label!r}. Known: {list(self.labels)}"
            )
        return self.labels.index(label)

    def history(self, optimizer: str | int, seed_index: int = 0) -> FitHistory:
        """What `fit` returns for one (optimizer, seed) pair."""
        i = self.index(optimizer)
        if not -len(self.seeds) <= seed_index < len(self.seeds):
            raise ValueError(
                f"Argument `seed_index` must be in [0, {len(self.seeds)}). "
                f"Received: seed_index={seed_index}"
            )
        e = int(self.epochs[i])
        shared = {k: v for k, v in self.metadata.items() if k != "optimizers"}
        meta = {
            **shared,
            **self.metadata["optimizers"][i],
            "seed": int(self.seeds[seed_index]),
            "epochs": e,
        }
        return FitHistory(
            self.loss[i, seed_index, :e].copy(),
            self.accuracy[i, seed_index, :e].copy(),
            self.weights[i][seed_index].copy(),
            self.steps[i].copy(),
            meta,
        )

    def save(self, path: str | Path) -> Path:
        """Writes `.npz` + JSON metadata; returns the path."""
        arrays = {
            "loss": self.loss,
            "accuracy": self.accuracy,
            "seeds": self.seeds,
            "epochs": self.epochs,
        }
        for i, (w, s) in enumerate(zip(self.weights, self.steps, strict=True)):
            arrays[f"weights_{i}"] = w
            arrays[f"steps_{i}"] = s
        meta = {"kind": "ManyHistory", "labels": list(self.labels), **self.metadata}
        return save_archive(path, arrays, meta)

    @classmethod
    def load(cls, path: str | Path) -> ManyHistory:
        """Reads what `save` wrote (exact round trip)."""
        arrays, metadata = load_archive(path)
        if metadata.pop("kind", None) != "ManyHistory":
            raise ValueError(f"File {str(path)!r} does not hold a ManyHistory.")
        labels = metadata.pop("labels", None)
        if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
            raise ValueError(f"'{path}': a ManyHistory needs its list of labels.")
        labels = tuple(labels)
        n = len(labels)
        shared = check_schema(
            arrays,
            {"loss": "f:O,S,E", "accuracy": "f:O,S,E", "seeds": "i:S", "epochs": "i:O"},
            f"'{path}'",
        )
        if shared["O"] != n:
            raise ValueError(f"'{path}': {n} labels for {shared['O']} optimizers.")
        for i in range(n):
            own = check_schema(
                arrays,
                {f"weights_{i}": "f:S,R,P", f"steps_{i}": "i:R"},
                f"'{path}'",
            )
            if own["S"] != shared["S"]:
                raise ValueError(
                    f"'{path}': weights_{i} has the wrong number of seeds."
                )
        return cls(
            arrays["loss"],
            arrays["accuracy"],
            tuple(arrays[f"weights_{i}"] for i in range(n)),
            tuple(arrays[f"steps_{i}"] for i in range(n)),
            labels,
            arrays["seeds"],
            arrays["epochs"],
            metadata,
        )
