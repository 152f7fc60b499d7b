"""Fixtures of the capture tests: notes on a desk or a scanner's lid and videos of notes coming and
going (:mod:`banknote_guard.capture.demo_video`, as the ``scenes`` fixture) and the demo model. The SANE
configuration (``sane_config``) is in the suite's conftest: the GUI tests scan too."""

from __future__ import annotations

from pathlib import Path

import pytest

from banknote_guard.capture import demo_video
from banknote_guard.capture.demo_video import Timeline, Visit, flat_note, write_demo_video


class Scenes:
    """The picture and video makers of :mod:`banknote_guard.capture.demo_video`, as one fixture."""

    FRAME = demo_video.FRAME
    FPS = demo_video.FPS
    Visit = demo_video.Visit
    flat_note = staticmethod(demo_video.flat_note)
    desk = staticmethod(demo_video.desk)
    lid = staticmethod(demo_video.lid)
    place = staticmethod(demo_video.place)
    camera_look = staticmethod(demo_video.camera_look)
    visit_frames = staticmethod(demo_video.visit_frames)
    write_video = staticmethod(demo_video.write_video)


@pytest.fixture(scope="session")
def scenes() -> type[Scenes]:
    return Scenes


@pytest.fixture(scope="session")
def demo_model():
    """The bundled demo model (trained on the synthetic KRT and VLM notes)."""
    from banknote_guard.resources import demo_model_path
    from banknote_guard.verify.bundle import ModelBundle

    return ModelBundle.load(demo_model_path())


@pytest.fixture(scope="session")
def notes_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Visit], Timeline]:
    """A video of four notes visiting the camera: three sharp genuine notes and one that stays blurred;
    (its path, the visits, when each note rested)."""
    visits = [
        Visit(flat_note("10", "front", seed=1)),
        Visit(flat_note("20", "front", seed=2), angle=-3.0),
        Visit(flat_note("5", "back", seed=3), blur=3.5, settle_s=2.4),
        Visit(flat_note("10", "back", seed=4), angle=2.0),
    ]
    path = tmp_path_factory.mktemp("videos") / "notes.avi"
    return path, visits, write_demo_video(path, visits)
