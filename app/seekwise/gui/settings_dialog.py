"""The Settings window: folders and their exclusions, file types, model, performance, shortcut, start
at login, data location, rebuild and clear. Every call that can be slow runs off the GUI thread."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGridLayout,
                               QGroupBox, QHBoxLayout, QKeySequenceEdit, QLabel, QLineEdit, QListWidget,
                               QMessageBox, QPlainTextEdit, QPushButton, QRadioButton, QScrollArea, QSpinBox,
                               QTabWidget, QVBoxLayout, QWidget)

from seekwise.core import power, settings as settings_store
from seekwise.core.settings import Settings
from seekwise.gui import autostart
from seekwise.gui.hotkey import FALLBACK_COMMAND, GlobalHotkey, parse_sequence
from seekwise.gui.workers import Runner

log = logging.getLogger(__name__)

TYPE_LABELS = {"image": "image, and scanned PDF pages (their text, by OCR: slow, in the background)"}
# A rebuild or clear can hold a thread for minutes: the folder list, the model check and the save
# each get one of their own rather than waiting behind it.
CALL_THREADS = 4


class SettingsDialog(QDialog):
    """Edits a copy of `prefs`; OK saves it (settings file, autostart, exclusions to the library) and
    emits `settings_saved`. Folder changes, rebuild and clear act on the library at once."""

    settings_saved = Signal(object)   # the new Settings, after the file is written and the rules applied
    folders_changed = Signal(list)    # the library's roots, after an add or remove
    job_finished = Signal(str, str)   # ("rebuild" | "clear" | "add" | "remove" | "save", error or "")

    def __init__(self, backend: Any, prefs: Settings, hotkey: GlobalHotkey | None = None,
                 config_path: str | os.PathLike | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Seekwise Settings")
        self.backend = backend
        self.original = prefs
        self.prefs = replace(prefs, excludes={k: list(v) for k, v in prefs.excludes.items()},
                             skip_types=list(prefs.skip_types), extra=dict(prefs.extra))
        self.hotkey = hotkey
        self.config_path = config_path
        self.calls = Runner(threads=CALL_THREADS, parent=self)
        self.confirm_box: QMessageBox | None = None
        self._current_folder: str | None = None

        self.tabs = QTabWidget()
        self.tabs.addTab(self._folders_page(), "Folders")
        self.tabs.addTab(self._types_page(), "File types")
        self.tabs.addTab(self._model_page(), "Model")
        self.tabs.addTab(self._general_page(), "General")
        self.tabs.addTab(self._data_page(), "Data")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        if prefs.problem:
            self.status.setText(prefs.problem)
        if getattr(backend, "problem", ""):       # no library: folders and the index wait for one
            self.tabs.setTabEnabled(0, False)
            self.tabs.setCurrentIndex(2)
            for button in (self.rebuild_button, self.clear_button):
                button.setEnabled(False)
            self.status.setText(backend.problem)
        self.refresh_folders()
        self._check_model()
        self.resize(640, 520)

    # -- folders -------------------------------------------------------------------------------

    def _folders_page(self) -> QWidget:
        page = QWidget()
        self.folder_list = QListWidget()
        self.folder_list.currentTextChanged.connect(self._folder_selected)
        self.add_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Its files leave the index; the files themselves are not touched.")
        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button.clicked.connect(self._remove_selected)
        self.patterns = QPlainTextEdit()
        self.patterns.setPlaceholderText("One pattern per line, e.g.\n*.log\ndrafts/\nArchive/2019/*")
        self.patterns.textChanged.connect(self._patterns_edited)
        self.patterns.setEnabled(False)
        self.gitignore = QCheckBox("Also leave out what .gitignore files in these folders list")
        self.gitignore.setChecked(self.prefs.gitignore)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Folders Seekwise indexes and watches:"))
        layout.addWidget(self.folder_list)
        layout.addLayout(buttons)
        self.patterns_label = QLabel("Leave out in the selected folder (a name or a path inside it; "
                                     "a trailing / means folders only):")
        self.patterns_label.setWordWrap(True)
        layout.addWidget(self.patterns_label)
        layout.addWidget(self.patterns)
        layout.addWidget(self.gitignore)
        return page

    def refresh_folders(self) -> None:
        self.calls.run(self.backend.roots, self._show_folders, self._failed("reading the folders"))

    def _show_folders(self, roots: list[str]) -> None:
        keep = self.folder_list.currentItem().text() if self.folder_list.currentItem() else None
        self.folder_list.blockSignals(True)
        self.folder_list.clear()
        self.folder_list.addItems(roots)
        self.folder_list.blockSignals(False)
        if roots:
            self.folder_list.setCurrentRow(roots.index(keep) if keep in roots else 0)
        else:
            self._folder_selected("")
        self.folders_changed.emit(roots)

    def _folder_selected(self, folder: str) -> None:
        self._current_folder = folder or None
        self.patterns.blockSignals(True)
        self.patterns.setPlainText("\n".join(self.prefs.excludes.get(folder, [])) if folder else "")
        self.patterns.blockSignals(False)
        self.patterns.setEnabled(bool(folder))
        self.remove_button.setEnabled(bool(folder))

    def _patterns_edited(self) -> None:
        if not self._current_folder:
            return
        lines = [ln.strip() for ln in self.patterns.toPlainText().splitlines() if ln.strip()]
        if lines:
            self.prefs.excludes[self._current_folder] = lines
        else:
            self.prefs.excludes.pop(self._current_folder, None)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to index", os.path.expanduser("~"))
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        self._busy(f"Adding {folder}…")
        self.calls.run(lambda: self.backend.add_root(folder), lambda _: self._job_done("add"),
                       self._failed("adding the folder", "add"))

    def _remove_selected(self) -> None:
        if self._current_folder:
            self.remove_folder(self._current_folder)

    def remove_folder(self, folder: str) -> None:
        self.prefs.excludes.pop(folder, None)
        self._busy(f"Removing {folder}…")
        self.calls.run(lambda: self.backend.remove_root(folder), lambda _: self._job_done("remove"),
                       self._failed("removing the folder", "remove"))

    # -- file types ----------------------------------------------------------------------------

    def _types_page(self) -> QWidget:
        inner = QWidget()
        grid = QGridLayout(inner)
        self.type_boxes: dict[str, QCheckBox] = {}
        for row, (name, extensions) in enumerate(settings_store.file_types()):
            box = QCheckBox(TYPE_LABELS.get(name, name))
            box.setChecked(name not in self.prefs.skip_types)
            shown = " ".join(extensions[:12]) + (" …" if len(extensions) > 12 else "")
            box.setToolTip(" ".join(extensions))
            grid.addWidget(box, row, 0)
            grid.addWidget(QLabel(shown), row, 1)
            self.type_boxes[name] = box
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Index these kinds of files (unchecked ones leave the index):"))
        layout.addWidget(scroll)
        return page

    # -- model ---------------------------------------------------------------------------------

    def _model_page(self) -> QWidget:
        page = QWidget()
        self.model_bundled = QRadioButton("The bundled model")
        self.model_custom = QRadioButton("A model folder of my own (with manifest.json):")
        self.model_path = QLineEdit(self.prefs.model)
        self.model_browse = QPushButton("Choose…")
        self.model_info = QLabel("")
        self.model_info.setWordWrap(True)
        self.model_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        (self.model_custom if self.prefs.model else self.model_bundled).setChecked(True)
        self.model_bundled.toggled.connect(self._check_model)
        self.model_path.editingFinished.connect(self._check_model)
        self.model_browse.clicked.connect(self._choose_model)
        row = QHBoxLayout()
        row.addWidget(self.model_path)
        row.addWidget(self.model_browse)
        layout = QVBoxLayout(page)
        layout.addWidget(self.model_bundled)
        layout.addWidget(self.model_custom)
        layout.addLayout(row)
        layout.addWidget(self.model_info)
        note = QLabel("A new model takes effect when Seekwise starts again; every passage is then embedded "
                      "again (the old vectors are kept, so switching back is free).")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addStretch()
        return page

    def _choose_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder", os.path.expanduser("~"))
        if folder:
            self.model_custom.setChecked(True)
            self.model_path.setText(folder)
            self._check_model()

    def _check_model(self) -> None:
        """Read the chosen model's manifest off the GUI thread; only the latest check's answer counts."""
        custom = self.model_custom.isChecked()
        spec = self.model_path.text().strip() if custom else ""
        self._model_ticket = ticket = getattr(self, "_model_ticket", 0) + 1
        self.model_ok: bool | None = None
        if custom and not spec:
            self._model_answer(ticket, False, "Choose a model folder (it holds manifest.json).")
            return

        def check():  # noqa: ANN202
            return self.backend.check_model(spec) if spec else self.backend.model()

        def shown(manifest) -> None:  # noqa: ANN001
            self._model_answer(ticket, True, f"{'Found' if spec else 'In use'}: {manifest.name} ({manifest.id}), "
                                             f"{manifest.dims} dimensions, up to {manifest.max_tokens} tokens\n"
                                             f"{manifest.folder}")

        self.calls.run(check, shown, lambda exc: self._model_answer(ticket, False, f"Cannot use this model: {exc}"))

    def _model_answer(self, ticket: int, ok: bool, text: str) -> None:
        if ticket != self._model_ticket:
            return  # an older check, overtaken
        self.model_ok = ok
        self.model_info.setText(text)
        self.job_finished.emit("model", "" if ok else text)

    # -- general: performance, shortcut, start at login ----------------------------------------

    def _general_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.threads = QSpinBox()
        self.threads.setRange(1, max(1, os.cpu_count() or 1))
        self.threads.setValue(min(self.prefs.background_threads, self.threads.maximum()))
        form.addRow("Background indexing threads:", self.threads)
        self.threads_note = QLabel("Takes effect when Seekwise starts again.", objectName="dim")
        form.addRow("", self.threads_note)
        self.battery = QCheckBox("Pause indexing while on battery")
        self.battery.setChecked(self.prefs.pause_on_battery)
        if not power.supported():
            self.battery.setEnabled(False)
            self.battery.setToolTip("This system does not tell Seekwise whether it runs on battery.")
        form.addRow("", self.battery)
        self.hotkey_edit = QKeySequenceEdit(QKeySequence(self.prefs.hotkey))
        if hasattr(self.hotkey_edit, "setMaximumSequenceLength"):
            self.hotkey_edit.setMaximumSequenceLength(1)
        self.hotkey_edit.setClearButtonEnabled(True)
        self.hotkey_edit.keySequenceChanged.connect(self._hotkey_changed)
        form.addRow("Show Seekwise from anywhere:", self.hotkey_edit)
        self.hotkey_note = QLabel("")
        self.hotkey_note.setWordWrap(True)
        self.hotkey_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("", self.hotkey_note)
        self._hotkey_changed()
        self.login = QCheckBox("Start Seekwise when I log in (in the tray, indexing in the background)")
        self.login.setChecked(self.prefs.start_at_login)
        form.addRow("", self.login)
        return page

    def _hotkey_changed(self) -> None:
        text = self.hotkey_sequence()
        problem = ""
        if text:
            try:
                parse_sequence(text)
            except ValueError as exc:
                problem = f"{exc}."
        if not problem and self.hotkey is not None and self.hotkey.problem:
            problem = self.hotkey.problem
        if not text:
            problem = f"No shortcut. You can still bind `{FALLBACK_COMMAND}` in your desktop's keyboard settings."
        self.hotkey_note.setText(problem)

    def hotkey_sequence(self) -> str:
        return self.hotkey_edit.keySequence().toString(QKeySequence.SequenceFormat.PortableText)

    # -- data ----------------------------------------------------------------------------------

    def _data_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        where = QGroupBox("Where the index lives")
        row = QHBoxLayout(where)
        self.data_dir = QLineEdit(self.prefs.data_dir)
        self.data_dir.setPlaceholderText("the default folder (" + self._default_data_dir() + ")")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_data_dir)
        row.addWidget(self.data_dir)
        row.addWidget(browse)
        layout.addWidget(where)
        note = QLabel("A new location takes effect when Seekwise starts again, with an empty index there.")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.rebuild_button = QPushButton("Rebuild index…")
        self.rebuild_button.setToolTip("Read every file again into fresh indexes (passages already embedded "
                                       "are not embedded again).")
        self.clear_button = QPushButton("Clear index…")
        self.clear_button.setToolTip("Forget every folder and everything indexed; your files are not touched.")
        self.rebuild_button.clicked.connect(lambda: self.confirm("rebuild"))
        self.clear_button.clicked.connect(lambda: self.confirm("clear"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.rebuild_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch()
        layout.addLayout(buttons)
        layout.addStretch()
        return page

    @staticmethod
    def _default_data_dir() -> str:
        from seekwise.core.paths import default_data_dir
        return str(default_data_dir())

    def _choose_data_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Where should the index live?", os.path.expanduser("~"))
        if folder:
            self.data_dir.setText(folder)

    def confirm(self, job: str) -> None:
        """Ask first (window-modal, never a nested event loop), then run the job off the GUI thread."""
        text = {"rebuild": "Rebuild the index? Every file is read again; search keeps working on what is "
                           "done so far.",
                "clear": "Clear the index? Seekwise forgets every folder and everything it indexed. "
                         "Your files are not touched."}[job]
        box = QMessageBox(QMessageBox.Icon.Question, "Seekwise", text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda result: self._confirmed(job, result))
        self.confirm_box = box
        box.open()

    def _confirmed(self, job: str, result: int) -> None:
        self.confirm_box = None
        if result != QMessageBox.StandardButton.Yes:
            return
        self._busy("Rebuilding the index…" if job == "rebuild" else "Clearing the index…")
        fn = self.backend.rebuild if job == "rebuild" else self.backend.clear
        self.calls.run(fn, lambda _: self._job_done(job), self._failed(f"the {job}", job))

    # -- saving --------------------------------------------------------------------------------

    def collect(self) -> Settings:
        """The settings as the widgets show them now."""
        prefs = self.prefs
        prefs.gitignore = self.gitignore.isChecked()
        prefs.skip_types = sorted(name for name, box in self.type_boxes.items() if not box.isChecked())
        prefs.model = self.model_path.text().strip() if self.model_custom.isChecked() else ""
        prefs.background_threads = self.threads.value()
        prefs.pause_on_battery = self.battery.isChecked()
        prefs.hotkey = self.hotkey_sequence()
        prefs.start_at_login = self.login.isChecked()
        prefs.data_dir = self.data_dir.text().strip()
        prefs.problem = ""
        return replace(prefs)

    def save(self) -> None:
        """Write the file, follow start-at-login, hand new exclusions to the library; then close."""
        if self.model_custom.isChecked() and self.model_ok is False:
            self.tabs.setCurrentIndex(2)
            self.status.setText("Choose a model folder that works, or the bundled model.")
            return
        new = self.collect()
        old = self.original
        rules_changed = (new.excludes, new.skip_types, new.gitignore) != (old.excludes, old.skip_types,
                                                                          old.gitignore)

        def work() -> Settings:
            settings_store.save(new, self.config_path)
            if new.start_at_login != autostart.is_enabled():
                autostart.enable() if new.start_at_login else autostart.disable()
            if rules_changed:
                self.backend.apply_rules(new.ignore_rules())
            return new

        self._busy("Saving…")
        self.buttons.setEnabled(False)
        self.calls.run(work, self._saved, self._failed("saving the settings", "save"))

    def _saved(self, new: Settings) -> None:
        self.buttons.setEnabled(True)
        self.status.setText("")
        self.original = new
        self.settings_saved.emit(new)
        self.job_finished.emit("save", "")
        self.accept()

    # -- plumbing ------------------------------------------------------------------------------

    def _busy(self, text: str) -> None:
        self.status.setText(text)
        for button in (self.add_button, self.remove_button, self.rebuild_button, self.clear_button):
            button.setEnabled(False)

    def _job_done(self, job: str) -> None:
        self.status.setText({"rebuild": "Rebuilding: every file is being read again.",
                             "clear": "The index is empty."}.get(job, ""))
        for button in (self.add_button, self.rebuild_button, self.clear_button):
            button.setEnabled(True)
        self.refresh_folders()
        self.job_finished.emit(job, "")

    def _failed(self, what: str, job: str = "") -> Callable[[BaseException], None]:
        def show(exc: BaseException) -> None:
            log.warning("settings: %s failed: %s", what, exc, exc_info=exc)
            self.status.setText(f"Problem {what}: {exc}")
            self.buttons.setEnabled(True)
            for button in (self.add_button, self.rebuild_button, self.clear_button):
                button.setEnabled(True)
            self.remove_button.setEnabled(self._current_folder is not None)
            if job:
                self.job_finished.emit(job, str(exc) or type(exc).__name__)
        return show
