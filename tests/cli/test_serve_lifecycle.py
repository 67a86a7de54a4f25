"""`lucid serve` keeps its token in a private file, stops cleanly, and fails loudly."""

from __future__ import annotations

import socket
import stat

from tests.cli.conftest import clean_env, runner, start_server, stop_server


def test_serve_writes_a_private_token_file_and_stops_on_sigterm(tmp_path):
    served = start_server(tmp_path)
    try:
        mode = stat.S_IMODE((tmp_path / "api-token").stat().st_mode)
        assert mode == 0o600
        assert len(served.token) >= 40
    finally:
        code = stop_server(served)

    assert code == 0
    log = served.log_text()
    assert f"writes need the token in {tmp_path / 'api-token'}" in log
    assert served.token not in log
    assert log.rstrip().endswith("lucid.server: stopped")


def test_serve_on_a_taken_port_exits_1_with_the_reason(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner(clean_env())(
            "serve", "--port", str(port), "--xds-port", "0", "--data-dir", str(tmp_path)
        )

    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
