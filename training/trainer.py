"""The training loop: AdamW with warm-up and linear decay, clipping, two learning rates, autocast
on GPU, seeds (and a deterministic CPU mode), early stopping on dev JMASA F1, the best checkpoint,
resume from the last epoch, a progress bar and a run directory.

Run directory::

    config.json         TrainConfig, ModelConfig, data description
    metrics.json        per-epoch losses and dev metrics, the best epoch, final test metrics
    train.log           the log of the run
    best/               the best checkpoint (an adsent checkpoint: model.checkpoint)
    last/               the latest checkpoint + trainer_state.pt (optimizer, scheduler, step, RNG)
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from model.checkpoint import load_checkpoint, save_checkpoint
from model.fusion.inputs import ViewTokenizer
from model.fusion.network import FusionNetwork
from model.precision import autocast
from training.batches import Batch, Prepared, collate
from training.config import TrainConfig
from training.evaluation import predict_prepared, score
from training.losses import (anp_cross_entropy, balanced_tag_weights, crf_nll, overall_cross_entropy,
                             text_centred_kl, token_cross_entropy, top_v_target)
from training.metrics import Metrics

log = logging.getLogger(__name__)
STATE_FILE = "trainer_state.pt"


def seed_everything(seed: int, deterministic: bool) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(1)


@dataclass
class StepLosses:
    total: torch.Tensor
    parts: dict[str, float] = field(default_factory=dict)


def compute_losses(network: FusionNetwork, batch: Batch, config: TrainConfig,
                   tag_weights: torch.Tensor | None = None) -> StepLosses:
    """Eq. 13-15 (+ overall, + the optional per-token term) on one batch; see :mod:`training.losses`."""
    weights = config.loss
    smoothing = weights.label_smoothing
    out_s = network(batch.text, None, tags=batch.tags, marginals=batch.fused is not None and weights.epsilon > 0)
    nll = crf_nll(out_s.log_likelihood)
    parts = {"nll_s": float(nll.detach())}
    overall = overall_cross_entropy(out_s.overall_logits, batch.overall, smoothing) if weights.overall > 0 else None
    token = token_cross_entropy(out_s.emissions, batch.tags, out_s.tag_mask, smoothing, tag_weights) \
        if weights.token > 0 else None
    anp = kl = None
    if batch.fused is not None:
        rows = batch.fused_rows
        out_sn = network(batch.fused, batch.visual, tags=batch.fused_tags, marginals=weights.epsilon > 0)
        nll_sn = crf_nll(out_sn.log_likelihood)
        parts["nll_sn"] = float(nll_sn.detach())
        nll = nll + nll_sn
        if overall is not None:
            overall = overall + overall_cross_entropy(out_sn.overall_logits, batch.overall[rows], smoothing)
        if token is not None:
            token = token + token_cross_entropy(out_sn.emissions, batch.fused_tags, out_sn.tag_mask, smoothing,
                                                tag_weights)
        if weights.epsilon > 0:
            # the first tokens of both views align ([CLS] and the ad copy); compare those
            steps = min(out_s.marginals.shape[1], out_sn.marginals.shape[1])
            text_marginals = out_s.marginals[rows, :steps]
            mask = batch.text.copy_mask[rows, :steps] & out_s.tag_mask[rows, :steps]
            kl = text_centred_kl(out_sn.marginals[:, :steps], text_marginals, mask)
            parts["kl"] = float(kl.detach())
        if out_sn.anp_logits is not None and batch.teacher is not None and weights.omega > 0 and weights.top_v != 0:
            anp = anp_cross_entropy(out_sn.anp_logits, top_v_target(batch.teacher, weights.top_v), batch.teacher_mask)
            parts["anp"] = float(anp.detach())
    total = weights.eta * nll
    if anp is not None:
        total = total + weights.omega * anp
    if kl is not None:
        total = total + weights.epsilon * kl
    if overall is not None:
        parts["overall"] = float(overall.detach())
        total = total + weights.overall * overall
    if token is not None:
        parts["token"] = float(token.detach())
        total = total + weights.token * token
    parts["loss"] = float(total.detach())
    return StepLosses(total, parts)


def encoder_rates(network: FusionNetwork, config: TrainConfig) -> dict[int, float]:
    """The learning rate of every pretrained encoder parameter (by ``id``): ``lr_pretrained`` for the
    top layer (and the pooler), times ``lr_layer_decay`` per layer below it; the embeddings one
    step below the first layer."""
    encoder = network.text.encoder
    layers = list(encoder.encoder.layer)
    rates = {id(p): config.lr_pretrained for p in encoder.parameters()}
    for depth, module in enumerate([encoder.embeddings, *layers]):  # depth 0: the embeddings
        for parameter in module.parameters():
            rates[id(parameter)] = config.lr_pretrained * config.lr_layer_decay ** (len(layers) - depth)
    return rates


def parameter_groups(network: FusionNetwork, config: TrainConfig) -> list[dict[str, Any]]:
    """Pretrained encoder (per learning rate, see :func:`encoder_rates`) vs new parameters, each with
    and without weight decay; frozen layers left out."""
    encoder = network.text.encoder
    if config.freeze_layers > 0:
        for module in [encoder.embeddings, *encoder.encoder.layer[: config.freeze_layers]]:
            for parameter in module.parameters():
                parameter.requires_grad_(False)
    rates = encoder_rates(network, config)
    groups: dict[tuple[float, bool], list[torch.nn.Parameter]] = {}
    for name, parameter in network.named_parameters():
        if not parameter.requires_grad:
            continue
        no_decay = parameter.ndim < 2 or "LayerNorm" in name or "norm" in name.lower()
        groups.setdefault((rates.get(id(parameter), config.lr_new), no_decay), []).append(parameter)
    return [{"params": params, "lr": lr, "weight_decay": 0.0 if no_decay else config.weight_decay}
            for (lr, no_decay), params in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1]))]


def weighted_f1(scores: dict[str, float], weights: dict[str, float]) -> float:
    """The weighted mean of per-part F1 scores (parts without a score are left out)."""
    total = sum(weights[name] for name in scores)
    return sum(weights[name] * f1 for name, f1 in scores.items()) / total if total else 0.0


def warmup_linear(total_steps: int, warmup_ratio: float):  # noqa: ANN201
    warmup = max(1, int(round(total_steps * warmup_ratio)))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return factor


class Trainer:
    """Trains a :class:`FusionNetwork` on prepared examples, writing a run directory."""

    def __init__(self, network: FusionNetwork, tokenizer: Any, config: TrainConfig, run_dir: Path,
                 device: torch.device | str = "cpu", progress: bool = True, model_version: str = "adsent") -> None:
        self.network = network
        self.tokenizer = tokenizer
        self.config = config
        self.run_dir = Path(run_dir)
        self.device = torch.device(device)
        self.progress = progress
        self.model_version = model_version
        self.views = ViewTokenizer(tokenizer, network.config.text.max_length)
        self.network.to(self.device)
        self.optimizer = torch.optim.AdamW(parameter_groups(network, config))
        self.scheduler: torch.optim.lr_scheduler.LambdaLR | None = None
        self.step = 0
        self.epoch = 0
        self.best_f1 = -1.0
        self.best_epoch = -1
        self.stale = 0
        self.history: list[dict[str, Any]] = []
        self.generator = torch.Generator().manual_seed(config.seed)
        self.tag_weights: torch.Tensor | None = None  # per-tag token-loss weights, set by fit

    # --- one step ---------------------------------------------------------------------------
    def train_step(self, batch: Batch) -> dict[str, float]:
        self.network.train()
        batch = batch.to(self.device)
        with autocast(self.device):
            losses = compute_losses(self.network, batch, self.config, self.tag_weights)
        self.optimizer.zero_grad(set_to_none=True)
        losses.total.backward()
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        losses.parts["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(params, self.config.max_grad_norm))
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        self.step += 1
        return losses.parts

    def _ensure_scheduler(self, steps_per_epoch: int) -> None:
        if self.scheduler is None:
            total = max(1, steps_per_epoch * self.config.epochs)
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer,
                                                               warmup_linear(total, self.config.warmup_ratio))

    # --- the loop ---------------------------------------------------------------------------
    def fit(self, train: Sequence[Prepared], dev: Sequence[Prepared] | None,
            dev_weights: dict[str, float] | None = None) -> dict[str, Any]:
        """Train until ``epochs`` or ``patience``; the best checkpoint by dev JMASA F1, or with
        ``dev_weights`` (a mixture) by the weighted mean of each part's dev F1."""
        cfg = self.config
        batches_per_epoch = math.ceil(len(train) / cfg.batch_size)
        self._ensure_scheduler(batches_per_epoch)
        if cfg.loss.sentiment_weighting == "balanced":
            self.tag_weights = balanced_tag_weights(a.sentiment for p in train for a in p.example.aspects)
            log.info("token-loss tag weights %s", [round(w, 3) for w in self.tag_weights.tolist()])
        started = time.perf_counter()
        while self.epoch < cfg.epochs and self.stale < cfg.patience:
            order = torch.randperm(len(train), generator=self.generator).tolist()
            sums: dict[str, float] = {}
            seen, epoch_start = 0, time.perf_counter()
            bar = tqdm(total=len(train), desc=f"epoch {self.epoch + 1}/{cfg.epochs}", unit="ex",
                       disable=not self.progress)
            for first in range(0, len(order), cfg.batch_size):
                chosen = [train[i] for i in order[first:first + cfg.batch_size]]
                parts = self.train_step(collate(chosen, self.views, self.network.config, cfg.text_only))
                for key, value in parts.items():
                    sums[key] = sums.get(key, 0.0) + value * len(chosen)
                seen += len(chosen)
                bar.update(len(chosen))
                bar.set_postfix(loss=f"{parts['loss']:.3f}", dev_f1=f"{max(self.best_f1, 0):.3f}",
                                ex_s=f"{seen / (time.perf_counter() - epoch_start):.1f}")
            bar.close()
            self.epoch += 1
            record: dict[str, Any] = {"epoch": self.epoch, "step": self.step,
                                      "seconds": time.perf_counter() - epoch_start,
                                      "train": {k: v / max(seen, 1) for k, v in sums.items()}}
            if dev:
                metrics = self.evaluate(dev, parts=bool(dev_weights))
                record["dev"] = metrics
                f1 = weighted_f1(metrics["per_part"], dev_weights) if dev_weights else metrics["jmasa"]["f1"]
                if f1 > self.best_f1:
                    self.best_f1, self.best_epoch, self.stale = f1, self.epoch, 0
                    self.save(self.run_dir / "best")
                else:
                    self.stale += 1
                log.info("epoch %d: loss %.4f, dev JMASA F1 %.4f (best %.4f at epoch %d)", self.epoch,
                         record["train"].get("loss", float("nan")), f1, self.best_f1, self.best_epoch)
            else:
                self.best_epoch = self.epoch
                self.save(self.run_dir / "best")
                log.info("epoch %d: loss %.4f", self.epoch, record["train"].get("loss", float("nan")))
            self.history.append(record)
            self.save(self.run_dir / "last", with_state=True)
            self.write_metrics()
        summary = {"best_epoch": self.best_epoch, "best_dev_jmasa_f1": self.best_f1 if dev else None,
                   "epochs_run": self.epoch, "steps": self.step, "train_seconds": time.perf_counter() - started}
        self.write_metrics(summary)
        return summary

    def evaluate(self, prepared: Sequence[Prepared], parts: bool = False) -> Metrics:
        """Dev metrics; with ``parts`` (a mixture) also ``per_part``: each part's JMASA F1."""
        spans, overall, confidence = predict_prepared(self.network, self.views, self.network.config, prepared,
                                                      self.config.eval_batch_size, self.config.text_only, self.device)
        metrics = score(prepared, spans, overall, confidence)
        if parts:
            from training.mixture import part_of

            rows: dict[str, list[int]] = {}
            for index, item in enumerate(prepared):
                rows.setdefault(part_of(item.example), []).append(index)
            metrics["per_part"] = {name: score([prepared[i] for i in chosen], [spans[i] for i in chosen],
                                               [overall[i] for i in chosen])["jmasa"]["f1"]
                                   for name, chosen in rows.items()}
        return metrics

    # --- persistence ------------------------------------------------------------------------
    def save(self, directory: Path, with_state: bool = False) -> None:
        save_checkpoint(directory, self.network, self.tokenizer, self.model_version)
        if with_state:
            state = {"optimizer": self.optimizer.state_dict(),
                     "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                     "step": self.step, "epoch": self.epoch, "best_f1": self.best_f1, "best_epoch": self.best_epoch,
                     "stale": self.stale, "torch_rng": torch.get_rng_state(),
                     "generator": self.generator.get_state(), "history": json.dumps(self.history)}
            torch.save(state, directory / STATE_FILE)

    def resume(self, directory: Path, steps_per_epoch: int) -> None:
        """Restore weights, optimizer, scheduler, step, epoch and RNG from ``directory`` (a ``last/``)."""
        loaded = load_checkpoint(directory)
        self.network.load_state_dict(loaded.network.state_dict())
        state = torch.load(directory / STATE_FILE, map_location="cpu", weights_only=True)
        self.optimizer.load_state_dict(state["optimizer"])
        self._ensure_scheduler(steps_per_epoch)
        if state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.epoch = int(state["step"]), int(state["epoch"])
        self.best_f1, self.best_epoch, self.stale = float(state["best_f1"]), int(state["best_epoch"]), int(state["stale"])
        torch.set_rng_state(state["torch_rng"])
        self.generator.set_state(state["generator"])
        self.history = json.loads(state["history"])
        log.info("resumed from %s at epoch %d, step %d", directory, self.epoch, self.step)

    def write_metrics(self, summary: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> Path:
        path = self.run_dir / "metrics.json"
        document = json.loads(path.read_text()) if path.is_file() else {}
        document["history"] = self.history
        if summary:
            document["summary"] = summary
        if extra:
            document.update(extra)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, default=float) + "\n")
        return path
