#!/usr/bin/env bash
# Placeholder until playbooks/site.yml exists.
echo "make demo will start a local Keycloak, seed a tenant realm, and run playbooks/site.yml"
echo "against it and a sample APISIX route file. The site playbook does not exist yet."
