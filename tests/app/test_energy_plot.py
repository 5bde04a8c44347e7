"""The energy plot: no old range after a reset, noise not magnified, the shown step marked."""

import numpy as np

from app.energy_plot import MIN_ENERGY_SPAN, EnergyPlot, energy_range


def test_energy_range_never_magnifies_noise():
    low, high = energy_range(np.array([0.0309, 0.0310, 0.0312]))
    assert high - low >= MIN_ENERGY_SPAN - 1e-12
    assert low < 0.0309 and high > 0.0312
    low, high = energy_range(np.array([1.0, 3.0]))  # a real descent keeps its own range
    assert low < 1.0 < 3.0 < high and high - low < 2.5
    assert energy_range(np.array([np.nan])) == (0.0, MIN_ENERGY_SPAN)


def test_reset_clears_the_old_range_and_marker(qtbot):
    plot = EnergyPlot()
    qtbot.add_widget(plot)
    plot.reset(5)
    for step, energy in enumerate((5.0, 4.0, 3.0)):
        plot.add_step(step, np.array([energy, energy + 0.5]), energy, 3 - step)
    plot.mark_step(2)
    low, high = plot.energy_y_range()
    assert low < 3.0 and high > 5.5
    assert plot.shown_marker.isVisible() and plot.shown_marker.value() == 2
    plot.reset(5)
    low, high = plot.energy_y_range()
    assert high < 1.0  # not the old 3..5.5
    assert not plot.shown_marker.isVisible() and plot.shown_step() is None


def test_left_axes_leave_room_for_their_titles(qtbot):
    plot = EnergyPlot()
    qtbot.add_widget(plot)
    plot.resize(400, 300)
    plot.show()
    qtbot.waitExposed(plot)
    qtbot.wait(50)
    axis = plot.energy_plot.getAxis("left")
    needed = plot.fontMetrics().horizontalAdvance("-0.0000") + plot.fontMetrics().height()
    assert axis.width() >= needed
    assert plot.violation_plot.getAxis("left").width() == axis.width()  # step axes line up


def test_lowest_energy_step_is_the_first_minimum(qtbot):
    plot = EnergyPlot()
    qtbot.add_widget(plot)
    assert plot.lowest_energy_step() is None
    for step, energy in enumerate((3.0, 1.0, 2.0, 1.0)):
        plot.add_step(step, np.array([energy]), energy, 0, redraw=False)
    assert plot.lowest_energy_step() == 1
