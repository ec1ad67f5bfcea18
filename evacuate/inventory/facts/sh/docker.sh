# Fact family docker: see evacuate/inventory/facts/docker.py.
evac_has docker || exit 0
evac_part version
docker version --format '{{.Server.Version}}' 2>/dev/null
evac_part ps
docker ps -a --no-trunc --format '{{json .}}' 2>/dev/null
evac_part volumes
docker volume ls -q 2>/dev/null
:
