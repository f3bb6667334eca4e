# Copyright: CX platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real Keycloak servers for the integration tests, molecule and ``make demo``.

Standard library only, so it runs before the project's virtualenv exists. One job per
module; ``tools/kc_server.py`` is the command line on top of them.

* ``versions``  - the Keycloak versions tested and where each is served
* ``download``  - Maven download and extraction into the shared cache
* ``java``      - which JDK and which heap each Keycloak version runs with
* ``process``   - free ports, process groups: alive, ours, killed
* ``transport`` - one plain HTTP request (no raise on 4xx/5xx)
* ``tokens``    - password grants at a realm's token endpoint, JWT claims
* ``admin``     - the admin REST client and the tenant seed
* ``server``    - one server: private home, start, state file, stop
* ``registry``  - the servers recorded for this checkout: find, stop all
* ``cli``       - the ``kc_server.py`` commands
* ``errors``, ``log`` - the one exception family and the stderr log line
"""
