# Fact family packages_rpm: see evacuate/inventory/facts/packages_rpm.py.
evac_has rpm || exit 0
evac_part rpm
rpm -qa --queryformat '%{NAME}\t%{EPOCH}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n' || exit 1
if evac_has dnf; then
  evac_part userinstalled
  dnf -C -q repoquery --userinstalled --qf '%{name}\n' 2>/dev/null
fi
:
