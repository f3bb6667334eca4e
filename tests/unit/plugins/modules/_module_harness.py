"""What the module-layer unit tests of the Keycloak modules share.

``main()`` runs for real through AnsibleModule with these connection options; the
admin password is distinctive so that tests can assert it never reaches the output.
"""

from ansible.module_utils.testing import patch_module_args  # noqa: F401  pylint: disable=unused-import

ADMIN_PASSWORD = "Adm1n-s3cret-pw"
CONNECTION = {"auth_keycloak_url": "http://kc.example", "auth_username": "admin", "auth_password": ADMIN_PASSWORD}
