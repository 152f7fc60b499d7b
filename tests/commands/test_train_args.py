"""Training flags map onto TrainConfig / ModelConfig fields."""

from __future__ import annotations

import argparse

import pytest

from banknote_guard.commands.train_args import (
    add_train_arguments,
    train_config_from_args,
)
from banknote_guard.model.config import TrainConfig


def parse(*argv: str) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return train_config_from_args(parser.parse_args(list(argv)))


def test_no_flags_gives_the_defaults() -> None:
    assert parse() == TrainConfig()


def test_every_flag_reaches_its_field() -> None:
    config = parse(
        "--loss", "triplet", "--margin", "0.5", "--margin2", "0.1", "--adaptive-margin", "--mining", "all",
        "--backbone", "resnet18", "--pretrained", "--embedding-dim", "32", "--distance", "cosine", "--no-normalize",
        "--image-size", "64x128", "--epochs", "3", "--steps-per-epoch", "5", "--classes-per-batch", "6",
        "--images-per-class", "3",
        "--lr", "0.01", "--weight-decay", "0.001", "--seed", "7", "--threads", "2", "--patience", "2",
        "--val-fraction", "0.3", "--no-augment", "--split-sides",
        "--detail-patches", "4", "--detail-size", "128x256", "--detail-patch-size", "32",
    )
    assert (config.loss, config.margin, config.margin2, config.adaptive_margin, config.mining) == ("triplet", 0.5, 0.1, True, "all")
    m = config.model
    assert (m.backbone, m.embedding_dim, m.distance, m.normalize, m.image_height, m.image_width) == ("resnet18", 32, "cosine", False, 64, 128)
    assert config.pretrained and not config.augment and config.split_sides
    assert (m.detail_patches, m.detail_height, m.detail_width, m.detail_patch_size) == (4, 128, 256, 32)
    assert (config.epochs, config.steps_per_epoch, config.classes_per_batch, config.images_per_class) == (3, 5, 6, 3)
    assert not parse("--no-pretrained").pretrained and parse().pretrained
    assert (config.learning_rate, config.weight_decay, config.seed, config.num_threads) == (0.01, 0.001, 7, 2)
    assert (config.patience, config.val_fraction) == (2, 0.3)


def test_bad_image_size_and_backbone_are_rejected() -> None:
    with pytest.raises(SystemExit):
        parse("--image-size", "big")
    with pytest.raises(SystemExit):
        parse("--backbone", "alexnet")
