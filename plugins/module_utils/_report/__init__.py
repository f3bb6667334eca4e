# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run report of cx.api_auth (private to the collection): ``model`` builds it from what the plays
registered (masked through the masking unit), ``render`` writes it as JSON, Markdown, JUnit XML and HTML,
``store`` replaces the four files in the report directory as one set."""
