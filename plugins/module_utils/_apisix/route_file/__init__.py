# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Surgical edits of one plugin's block in APISIX route files (YAML text).

Route files (a standalone ``conf/apisix.yaml`` or Helm values of a chart in
standalone mode) are kept by hand and reviewed line by line, so they are never
re-serialised: the text is parsed once (PyYAML, with libyaml's C parser when
available) to get node positions, and only the lines of the plugin's block are
replaced, inserted, commented out or removed. Every other byte stays as it was.
Plain Python (PyYAML only, no Ansible), so it can be tested exhaustively.

One job a unit:

- ``errors``: RouteFileError and the messages about the file as a whole;
- ``nodes``: the YAML parser, node helpers, anchors and aliases;
- ``text``: the line table and the edits applied to the text in one pass;
- ``render``: new YAML text for scalars, mappings and sequences;
- ``document``: the parsed file: its routes, found under ``routes_key``;
- ``locate``: one route, its ``plugins`` and a plugin block, and what forbids an edit;
- ``layout``: the lines a key's block spans, indentation steps, block scalars;
- ``commented``: commented-out copies of a block (and of a whole ``plugins:``);
- ``verify``: the new text is parsed again and compared with what it must hold;
- ``editor``: the facade, ``RouteFile``: read a plugin's state, set or unset it, result.
"""
