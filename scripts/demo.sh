#!/usr/bin/env bash
# `make demo`: the main job on the shipped example territory.
# Today: validate the manifest, list and export it, show a device's effective profile, run plain
# Ansible against the inventory plugin, then build the virtual school (lab) and show its state.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p sortie
etape() { printf '\n\033[1m== %s ==\033[0m\n' "$*" >&2; }

etape "1. Validation du manifeste du territoire d'exemple"
ardoise inventaire valider inventaire/

etape "2. Les écoles de Bellerive-sur-Garonne : PC en service"
ardoise inventaire lister --commune bellerive --type pc --etat en_service --format table

etape "3. Profil effectif d'un PC élève (origine de chaque valeur)"
ardoise profils resoudre pc-jean-jaures-04 --format table

etape "4. Exports : JSON, CSV et inventaire Ansible (dans sortie/)"
ardoise inventaire exporter --vers json > sortie/equipements.json
ardoise inventaire exporter --vers csv > sortie/equipements.csv
ardoise inventaire exporter --vers ansible > sortie/inventaire-ansible.json
echo "sortie/equipements.json, sortie/equipements.csv, sortie/inventaire-ansible.json" >&2

etape "5. Ansible lit le même manifeste (greffon d'inventaire)"
ansible-inventory -i inventaire/ardoise.yml --graph commune_bellerive

etape "5 bis. Tablettes de Jean-Jaurès : feuille QR d'enrôlement Android Enterprise et profils iPad signés"
export ARDOISE_COFFRE_MDP="${ARDOISE_COFFRE_MDP:-inventaire/coffre-demo.mdp}"  # coffre de DÉMONSTRATION
ardoise tablettes qr --ecole 0331101T --format pdf --format png --format html --sortie sortie/tablettes
ardoise tablettes ipad certificat-demo --sortie sortie/tablettes/certificat-demo >/dev/null
ardoise tablettes ipad profil --ecole 0331101T --sortie sortie/tablettes \
    --signer sortie/tablettes/certificat-demo/signature-demo.crt --cle sortie/tablettes/certificat-demo/signature-demo.key

etape "5 ter. Le parc : un spare remplace un PC en panne (sur une COPIE du territoire), plan de renouvellement"
parc_tmp="$(mktemp -d)"
cp -r inventaire profils_terminaux "$parc_tmp"/
ardoise parc remplacer pc-les-pins-03 --par pc-les-pins-09 --symptome "ne s'allume plus" \
    --inventaire "$parc_tmp/inventaire" --base "sqlite:///$parc_tmp/resultats.sqlite" --sans-glpi
ardoise parc historique pc-les-pins-03 --inventaire "$parc_tmp/inventaire" --base "sqlite:///$parc_tmp/resultats.sqlite" --format table
rm -rf "$parc_tmp"
ardoise parc renouvellement --commune bellerive --format table --base "sqlite:///$PWD/sortie/parc.sqlite"
ardoise parc renouvellement --commune bellerive --sortie sortie/renouvellement-bellerive.html --base "sqlite:///$PWD/sortie/parc.sqlite"
ardoise parc renouvellement --commune bellerive --format csv --sortie sortie/renouvellement-bellerive.csv --base "sqlite:///$PWD/sortie/parc.sqlite"

etape "5 quater. Reprise par une commune : dossier Ardoise autonome de Castelnau (coffre rechiffré, rien des autres)"
rm -rf sortie/reprise-castelnau
ardoise commune exporter --commune castelnau --vers sortie/reprise-castelnau --format table
(cd sortie/reprise-castelnau && ARDOISE_COFFRE_MDP= ardoise inventaire valider)

etape "6. Le labo : l'école virtuelle Jean-Jaurès (vrais hôtes dans des espaces de noms réseau)"
ardoise labo arreter -q >/dev/null 2>&1 || true
ardoise labo demarrer --postes 3 --format table
ardoise labo etat --format json > sortie/labo-etat.json
echo "état du labo : sortie/labo-etat.json" >&2

etape "6 bis. Maintenance préventive des postes du labo (une commande SSH par poste) et rapport HTML"
lire_etat() { python3 -c "import json,sys; e=json.load(open('sortie/labo-etat.json')); print($1)"; }
rm -f sortie/known_hosts-labo  # les clés d'hôte du labo changent à chaque démarrage
# Postes neufs (l'atelier n'y est pas passé) : antivirus, proxy et applications seront signalés, c'est attendu.
ardoise maintenance lancer --postes "$(lire_etat "','.join(e['hotes'])")" --cle "$(lire_etat "e['acces']['cle_ssh']")" \
    --known-hosts sortie/known_hosts-labo --accepter-nouvelles-cles --base "sqlite:///$PWD/sortie/maintenance.sqlite" \
    --format table || true
ardoise maintenance rapport --ecole "$(lire_etat "e['uai']")" --base "sqlite:///$PWD/sortie/maintenance.sqlite" \
    --sortie sortie/rapport-maintenance.html
ardoise maintenance check-nagios --ecole "$(lire_etat "e['uai']")" --base "sqlite:///$PWD/sortie/maintenance.sqlite" || true

etape "6 ter. L'atelier : préparer les PC du labo (vrais paquets par le relais APT, plusieurs minutes) et fiche de livraison"
# Première connexion retenue pendant l'atelier (accept-new) dans ce known_hosts, stricte ensuite.
ARDOISE_KNOWN_HOSTS=sortie/known_hosts-labo ardoise atelier preparer --postes "$(lire_etat "','.join(e['hotes'])")" \
    --labo --parallele 3 --base "sqlite:///$PWD/sortie/atelier.sqlite" --format table || true
for f in html pdf csv; do
    ardoise atelier fiche --ecole "$(lire_etat "e['uai']")" --format "$f" --base "sqlite:///$PWD/sortie/atelier.sqlite" \
        -o "sortie/fiche-livraison.$f"
done

etape "6 quater. Le réseau : diff des commutateurs du labo de Jean-Jaurès, application confirmée, Wi-Fi"
# Sauvegardes, changements en attente et base de résultats de la démonstration dans sortie/
export ARDOISE_RESEAU_SAUVEGARDES="$PWD/sortie/reseau/sauvegardes" ARDOISE_RESEAU_ETAT="$PWD/sortie/reseau/en-attente"
ARDOISE_BASE="sqlite:///$PWD/sortie/reseau.sqlite" ardoise reseau diff --ecole 0331101T --perimetre commutation --format table
ARDOISE_BASE="sqlite:///$PWD/sortie/reseau.sqlite" ardoise reseau appliquer --ecole 0331101T --perimetre commutation \
    --confirmer-dans 2m --format table
ARDOISE_BASE="sqlite:///$PWD/sortie/reseau.sqlite" ardoise reseau confirmer --ecole 0331101T --format table
ARDOISE_BASE="sqlite:///$PWD/sortie/reseau.sqlite" ardoise wifi generer --ecole 0331101T --sortie sortie/wifi --format table

etape "6 quinquies. L'audit réseau de l'école du labo, depuis le poste technicien (un pied dans chaque VLAN)"
ARDOISE_KNOWN_HOSTS=sortie/known_hosts-labo ip netns exec "$(lire_etat "e['acces']['technicien_ns']")" \
    ardoise audit complet --ecole 0331101T --labo --sortie sortie/audit \
    --base "sqlite:///$PWD/sortie/audit.sqlite" > sortie/audit-chemin.txt || true
echo "rapport d'audit HTML : $(cat sortie/audit-chemin.txt)" >&2

etape "6 sexies. La console web sur le territoire d'exemple, avec les résultats du labo (en arrière-plan)"
# Démonstration en HTTP sur cette machine seulement (--http-local), balayages limités aux postes du labo (--labo) ; en production : derrière un mandataire TLS.
[ -f sortie/console.pid ] && kill "$(cat sortie/console.pid)" 2>/dev/null || true
port_console="${ARDOISE_CONSOLE_PORT:-8000}"
base_console="sqlite:///$PWD/sortie/maintenance.sqlite"
# Descripteurs hérités fermés (au-delà de 0-2) : sous « flock … make demo », la console laissée en arrière-plan
# garderait sinon le verrou du labo.
cle_console="$(lire_etat "e['acces']['cle_ssh']")"
( for fd in $(ls /proc/$BASHPID/fd); do if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done
  exec setsid ardoise console servir --http-local --labo --hote 127.0.0.1 --port "$port_console" --base "$base_console" \
    --cle "$cle_console" --known-hosts sortie/known_hosts-labo --wifi-sortie sortie/wifi
) > sortie/console.log 2>&1 < /dev/null &
echo $! > sortie/console.pid
cat >&2 <<FIN
Console : http://127.0.0.1:$port_console/ (journal : sortie/console.log, pid : sortie/console.pid)
Aucun compte par défaut ; créez le premier administrateur :
  .venv/bin/ardoise console utilisateur ajouter admin --role admin-syndicat --base $base_console
Arrêt de la console : kill \$(cat sortie/console.pid)
FIN

if [ "${ARDOISE_DEMO_GARDER_LABO:-0}" = "1" ]; then
    echo "Le labo reste démarré ; arrêtez-le avec : .venv/bin/ardoise labo arreter" >&2
else
    etape "7. Arrêt du labo (ARDOISE_DEMO_GARDER_LABO=1 pour le garder)"
    ardoise labo arreter
fi
