"""Progress bar: text, ETA, and silence when disabled."""

import io

from model.progress import ProgressBar, format_duration


def test_format_duration():
    assert format_duration(5.4) == "5s"
    assert format_duration(123) == "2:03"
    assert format_duration(3723) == "1:02:03"
    assert format_duration(-1) == "0s"


def test_line_shows_count_percent_rate_and_eta():
    bar = ProgressBar(100, "solve", " puzzles", stream=io.StringIO(), enabled=False)
    bar.update(25)
    text = bar.line(now=bar.started + 5.0)
    assert text.startswith("solve [#######")
    assert "25/100" in text and "25%" in text and "5.0 puzzles/s" in text and "ETA 15s" in text
    bar.update(75)
    assert "in 10s" in bar.line(now=bar.started + 10.0)


def test_enabled_bar_draws_and_ends_the_line():
    stream = io.StringIO()
    with ProgressBar(3, "gen", stream=stream, enabled=True, interval=0.0) as bar:
        for _ in range(3):
            bar.update()
    out = stream.getvalue()
    assert out.startswith("\r") and out.endswith("\n") and "3/3" in out


def test_disabled_and_non_tty_bars_write_nothing():
    stream = io.StringIO()  # not a TTY: auto mode stays quiet
    with ProgressBar(10, stream=stream) as bar:
        bar.update(10)
    assert stream.getvalue() == ""
