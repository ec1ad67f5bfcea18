#!/bin/sh
# An Ansible execution node: the blank target image plus ansible-core and ansible-runner
# from PyPI wheels (their dependencies are Debian's packages), installed by hand under
# /usr/local as pip would, with the console scripts ansible-runner's worker calls.
set -eu
SEED_DIR=/root/evacuate-seed

echo "seed: ansible-core and ansible-runner from PyPI wheels under /usr/local"
site=$(python3 -c 'import sys; print("/usr/local/lib/python3.%d/dist-packages" % sys.version_info[1])')
install -d "$site" /usr/local/bin
for wheel in "$SEED_DIR"/wheels/*.whl; do
  python3 -m zipfile -e "$wheel" "$site"
done
script() {  # script NAME MODULE: a console script calling MODULE's main()
  printf '#!/usr/bin/python3\nimport sys\nfrom %s import main\nsys.exit(main())\n' "$2" \
    > "/usr/local/bin/$1"
  chmod 0755 "/usr/local/bin/$1"
}
script ansible-runner ansible_runner.__main__
script ansible-playbook ansible.cli.playbook
script ansible ansible.cli.adhoc
script ansible-config ansible.cli.config
script ansible-inventory ansible.cli.inventory
ansible-playbook --version
ansible-runner --version
