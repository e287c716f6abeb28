"""A patch of moto's or botocore's internals installs on the version it was written for, and on no other."""

from __future__ import annotations

import moto
import pytest

from local import pinned


def test_the_pinned_version_passes_and_another_is_refused_naming_the_patch():
    pinned.require("moto", moto.__version__, "local.moto_example")
    with pytest.raises(RuntimeError, match=rf"local/moto_example\.py was written for moto 0\.0\.1, found "
                                           rf"{moto.__version__}"):
        pinned.require("moto", "0.0.1", "local.moto_example")
