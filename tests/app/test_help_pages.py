"""Help: How it works (with its diagram), keys, About (version, model, licences), dark palette."""

from PySide6.QtGui import QColor, QPalette

from app.help_pages import HelpDialog, about_html, diagram, is_dark, muted_colour


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.Base,
                         "#17181a"), (QPalette.ColorRole.WindowText, "#e8eaed"),
                         (QPalette.ColorRole.Text, "#e8eaed"),
                         (QPalette.ColorRole.Highlight, "#8ab4f8")):
        palette.setColor(role, QColor(colour))
    return palette


def test_muted_text_reads_on_light_and_dark():
    light = QPalette()
    light.setColor(QPalette.ColorRole.Window, QColor("#f0f0f0"))
    light.setColor(QPalette.ColorRole.WindowText, QColor("#000000"))
    dark = dark_palette()
    assert not is_dark(light) and is_dark(dark)
    assert QColor(muted_colour(light)).lightness() < 128  # dark grey on light
    assert QColor(muted_colour(dark)).lightness() > 128  # light grey on dark


def test_about_names_version_model_and_licences(shipped_model):
    from model.runtime import EnergyModel

    model = EnergyModel.load(shipped_model)
    page = about_html(model, QPalette())
    assert "Sudoku JEPA" in page and model.metadata["run_name"] in page
    for licence in ("MIT", "LGPL-3.0", "Apache-2.0", "BSD-3-Clause"):
        assert licence in page
    assert "none loaded" in about_html(None, QPalette())


def test_help_dialog_has_three_pages_and_follows_a_dark_palette(qtbot):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    old = app.palette()
    app.setPalette(dark_palette())
    try:
        dialog = HelpDialog(None, tab="About")
        qtbot.add_widget(dialog)
        assert [dialog.tabs.tabText(i) for i in range(3)] == list(HelpDialog.TABS)
        assert dialog.tabs.currentIndex() == 2
        how = dialog.pages["How it works"].toHtml()
        for words in ("heatmap", "energy", "chains", "exact finish"):
            assert words in how.lower()
        browser = dialog.pages["How it works"]
        assert browser.palette().color(QPalette.ColorRole.Base).lightness() < 128
        assert "#555" not in how
        image = diagram(dialog.palette())
        assert not image.isNull() and image.width() > 300
    finally:
        app.setPalette(old)


def test_help_menu_opens_each_page(qtbot, app_settings):
    from app.main import MainWindow

    window = MainWindow(settings=app_settings, model_path=None, dialogs=False, example=False)
    qtbot.addWidget(window)
    titles = [a.text() for a in window.menuBar().actions()[-1].menu().actions()]
    assert titles == ["&How it works", "&Keyboard and mouse", "&About"]
    dialog = window.show_help("How it works")
    assert dialog.tabs.currentIndex() == 0
    dialog.close()
