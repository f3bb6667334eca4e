# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Options of the APISIX Admin API target.
    # The option group ADMIN_API_ARGUMENT_SPEC of plugins/module_utils/_apisix/admin_api/options.py.
    DOCUMENTATION = r"""
options:
  admin_url:
    description:
      - Base URL of the APISIX Admin API (traditional mode, routes kept in etcd), for example
        V(http://127.0.0.1:9180) (3.x) or V(http://127.0.0.1:9080) (2.x served it on the proxy port).
        V(/apisix/admin) is added unless the URL ends with it.
      - Routes are read with C(GET /apisix/admin/routes/{id}) and only their C(openid-connect) plugin is written
        (other plugins and route fields never change). Answers in 3.x form and in the 2.x envelope (C(action)/C(node),
        also 3.x with C(admin_api_version=v2)) are both understood.
      - Mutually exclusive with O(path); one of the two is required.
    type: str
  admin_key:
    description:
      - The Admin API key (C(deployment.admin.admin_key) of the APISIX config, role C(admin)), sent in the
        C(X-API-KEY) header only. A key with the C(viewer) role can only read and is refused on the first write
        (check mode works with it).
      - Leave it unset for an Admin API that has no key configured.
    type: str
  validate_certs:
    description:
      - Verify the Admin API's TLS certificate (V(https://) O(admin_url)).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed the Admin API's certificate.
    type: path
  timeout:
    description:
      - Seconds to wait for each answer of the Admin API.
    type: int
    default: 10
"""

    # The read-only form for a module that also talks to Keycloak with its own validate_certs, ca_path and
    # timeout (apisix_oidc_check): ADMIN_API_READ_ARGUMENT_SPEC of the same options.py.
    READ = r"""
options:
  admin_url:
    description:
      - Base URL of the APISIX Admin API (traditional mode, routes kept in etcd), for example
        V(http://127.0.0.1:9180) (3.x) or V(http://127.0.0.1:9080) (2.x served it on the proxy port).
        V(/apisix/admin) is added unless the URL ends with it.
      - Routes are only read, with C(GET /apisix/admin/routes/{id}), or C(GET /apisix/admin/routes) to list them.
        Answers in 3.x form and in the 2.x envelope (C(action)/C(node), also 3.x with C(admin_api_version=v2)) are
        both understood.
      - Mutually exclusive with O(path); one of the two is required.
    type: str
  admin_key:
    description:
      - The Admin API key, sent in the C(X-API-KEY) header only. Reading is enough, so a key with the C(viewer)
        role works as well as one with the C(admin) role.
      - Leave it unset for an Admin API that has no key configured.
    type: str
  admin_validate_certs:
    description:
      - Verify the Admin API's TLS certificate (V(https://) O(admin_url)).
    type: bool
    default: true
  admin_ca_path:
    description:
      - PEM file of the CA that signed the Admin API's certificate.
    type: path
  admin_timeout:
    description:
      - Seconds to wait for each answer of the Admin API.
    type: int
    default: 10
"""
