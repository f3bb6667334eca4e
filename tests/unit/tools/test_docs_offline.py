# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make docs` is offline: the intersphinx configuration appended to sphinx-init's conf.py fetches nothing.

tools/build_docs.sh appends docs/sphinx/conf_offline.py to the generated conf.py; every intersphinx mapping
must then read a local inventory only (an entry ``None`` or a URL would fetch), and that inventory must be one
Sphinx reads, resolving the labels antsibull-docs' pages use to docs.ansible.com.
"""

import os
import runpy

import pytest
from sphinx.util.inventory import InventoryFile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GENERATED = """
extensions = ['sphinx.ext.autodoc', 'sphinx.ext.intersphinx', 'sphinx_antsibull_ext']
intersphinx_mapping = {
    'python3': ('https://docs.python.org/3/', (None, '../python3.inv')),
    'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', (None, '../ansible_devel.inv')),
}
"""


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "conf.py"
    with open(os.path.join(ROOT, "docs", "sphinx", "conf_offline.py"), encoding="utf-8") as handle:
        path.write_text(GENERATED + handle.read())
    return runpy.run_path(str(path))


def test_every_mapping_reads_a_local_file_only(conf, tmp_path):
    assert conf["intersphinx_mapping"]
    for _base, locations in conf["intersphinx_mapping"].values():
        for location in locations:
            assert location is not None
            assert "://" not in location
            assert os.path.dirname(location) == str(tmp_path)
            assert os.path.isfile(location)


@pytest.mark.parametrize(
    ("label", "page"),
    [
        ("common_return_values", "reference_appendices/common_return_values.html#common-return-values"),
        ("ansible_configuration_settings", "reference_appendices/config.html#ansible-configuration-settings"),
        (
            "ansible_collections.kubernetes.core.helm_template_module",
            "collections/kubernetes/core/helm_template_module.html#ansible-collections-kubernetes-core-helm-template-module",
        ),
        (
            "ansible_collections.kubernetes.core.k8s_info_module",
            "collections/kubernetes/core/k8s_info_module.html#ansible-collections-kubernetes-core-k8s-info-module",
        ),
    ],
)
def test_the_local_inventory_resolves_the_pages_labels(conf, label, page):
    base, (path,) = conf["intersphinx_mapping"]["ansible_devel"]
    with open(path, "rb") as handle:
        data = InventoryFile.loads(handle.read(), uri=base)
    assert data.data["std:label"][label].uri == base + page
