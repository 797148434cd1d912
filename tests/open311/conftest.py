from tests.media.conftest import run_worker

__all__ = ["run_worker"]
