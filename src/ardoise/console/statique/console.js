// Live progress of console jobs: polls /api/taches/<n> (same origin, session cookie) and updates the page.
// No inline script anywhere (the CSP forbids it); text is set with textContent only.
"use strict";
(function () {
  const LIBELLES = { en_attente: "en attente", en_cours: "en cours", termine: "terminé", echec: "échec" };

  function mettreAJour(bloc, a) {
    const barre = bloc.querySelector("progress");
    if (barre) {
      barre.max = Math.max(a.attendus, a.faits, 1);
      barre.value = a.fini ? barre.max : a.faits;
    }
    const champs = { "etat-tache": LIBELLES[a.statut] || a.statut, faits: a.faits, attendus: a.attendus,
                     echecs: a.echecs, message: a.message };
    for (const [cle, valeur] of Object.entries(champs)) {
      const el = bloc.querySelector("#" + cle) || bloc.querySelector("." + cle);
      if (el) el.textContent = String(valeur);
    }
  }

  function suivre(bloc) {
    const url = bloc.dataset.avancement;
    async function tour() {
      try {
        const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!r.ok) return;
        const a = await r.json();
        mettreAJour(bloc, a);
        if (a.fini) {
          bloc.classList.add("fini");
          if (bloc.dataset.recharger && !bloc.dataset.recharge) {
            bloc.dataset.recharge = "1";
            window.location.reload();  // show the final links and the run
          }
          return;
        }
      } catch (e) {
        /* network hiccup: try again */
      }
      window.setTimeout(tour, 1000);
    }
    const etat = bloc.querySelector(".etat-tache");
    if (!etat || !["terminé", "échec"].includes(etat.textContent.trim())) {
      tour();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-avancement]").forEach(suivre);
  });
})();
