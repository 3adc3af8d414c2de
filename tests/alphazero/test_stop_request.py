"""The run's stop request: a first SIGTERM or Ctrl-C asks for a clean stop, a second Ctrl-C aborts,
and the handlers it replaced are back once the session is over."""

import os
import signal

import pytest

from alphazero.train.stopping import StopRequest


def test_first_signal_requests_a_stop_second_ctrl_c_aborts_and_uninstall_restores():
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    stop = StopRequest()
    stop.install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.reason == "SIGTERM"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        stop.uninstall()
    assert {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} == before
