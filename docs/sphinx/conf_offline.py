# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Appended by tools/build_docs.sh to the conf.py that `antsibull-docs sphinx-init` writes: the build is offline.
# sphinx-init's intersphinx_mapping fetches objects.inv of docs.python.org, jinja and docs.ansible.com on every
# build; here the one mapping the pages use (Ansible's docs) reads a local inventory written below, so no
# request leaves the machine and the links still point at docs.ansible.com. A page that refers to a label of
# Ansible's docs not listed here fails the build (`undefined label`, -W): add the label to ANSIBLE_LABELS.

import os as _os
import zlib as _zlib

ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
# label -> (page and anchor under ANSIBLE_DOCS, title): the labels antsibull-docs' pages refer to
ANSIBLE_LABELS = {
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values", "Return Values"),
    "ansible_configuration_settings": (
        "reference_appendices/config.html#ansible-configuration-settings",
        "Ansible Configuration Settings",
    ),
}
# modules of other collections that the modules' docs name in seealso (M(...)), as docs.ansible.com has them
OTHER_MODULES = ("kubernetes.core.helm_template", "kubernetes.core.k8s_info")


def _inventory_lines():
    labels = dict(ANSIBLE_LABELS)
    for fqcn in OTHER_MODULES:
        namespace, name, module = fqcn.split(".")
        label = "ansible_collections.%s_module" % fqcn
        anchor = label.replace(".", "-").replace("_", "-")
        labels[label] = ("collections/%s/%s/%s_module.html#%s" % (namespace, name, module, anchor), fqcn)
    for label, (uri, title) in sorted(labels.items()):
        yield "%s std:label -1 %s %s\n" % (label, uri, title)


def _write_inventory(path):
    header = (
        "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    with open(path, "wb") as handle:
        handle.write(header.encode())
        handle.write(_zlib.compress("".join(_inventory_lines()).encode()))


_ANSIBLE_INVENTORY = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "ansible_devel.inv")
_write_inventory(_ANSIBLE_INVENTORY)
# only a local file per mapping (no None entry): intersphinx never fetches
intersphinx_mapping = {"ansible_devel": (ANSIBLE_DOCS, (_ANSIBLE_INVENTORY,))}
