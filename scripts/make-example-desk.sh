#!/usr/bin/env bash
# Rebuilds the example desk's tickets through the CLI, as agents would have made them
# in November 2026 (SDESK_NOW pins each step). Run from a venv with sdesk installed;
# it deletes tickets/*.yaml first. Ticket numbers differ on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f tickets/*.yaml announcements/*.yaml
rm -rf outbox   # this clone's mail; git-ignored
export SDESK_DIR="$PWD"
A=an.wouters@caresolutions.example; B=bram.de.smet@caresolutions.example; L=lien.jacobs@caresolutions.example
at() { export SDESK_NOW="$1"; }
newt() { sdesk --as "$1" new --format json "${@:2}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
announce() { sdesk --as "$1" announce new --format json "${@:2}" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])'; }

at 2026-11-02T09:14:00+01:00
T1=$(newt $A --type incident --customer zonnebloem --requester sofie.peeters@zonnebloem.example --title "Storing bij één gebruiker: zorgdossier opent niet" --impact individual --urgency high --product care-dossier --site 2102 --category application --url https://dossier.zonnebloem.example/bewoner/1182 --error-message "Fout 500: interne serverfout bij het openen van het bewonersdossier" --description "Sinds vanochtend kan verpleegkundige Ine het dossier van bewoner 1182 niet meer openen. Andere dossiers werken wel.")
at 2026-11-02T09:40:00+01:00; sdesk --as $A update $T1 --status in-progress --assignee $A --note "Opgepakt, log van de applicatieserver opgevraagd."
at 2026-11-02T11:05:00+01:00; sdesk --as $A comment $T1 "Het dossier bevatte een beschadigde bijlage. Die is verwijderd; kunt u het opnieuw proberen?"
at 2026-11-03T10:20:00+01:00; sdesk --as $A close $T1 --resolution "Beschadigde bijlage uit bewonersdossier 1182 verwijderd; dossier opent weer."
at 2026-11-03T10:25:00+01:00; sdesk --as $A log $T1 1h15m --on 2026-11-02 --note "Serverlog geanalyseerd, beschadigde bijlage gevonden en verwijderd."
at 2026-11-04T09:10:00+01:00; sdesk --as $A survey $T1 5 --comment "Snel en duidelijk opgelost, dank u."

at 2026-11-05T14:02:00+01:00
T2=$(newt $B --type incident --customer vandijk --requester j.bakker@vandijk.example --title "Telematica-units DC Venlo melden zich niet meer aan" --impact company --urgency high --product fleet-telemetry --site 3002 --category interface --error-message "M2M gateway: APN authentication failed (code 33)" --description "Sinds 13:30 sturen 41 trekkers geen posities meer door. Planning rijdt blind." --contact-phone "+31 6 1234 5678")
at 2026-11-05T14:10:00+01:00; sdesk --as $B update $T2 --status in-progress --assignee $B --note "P1: klant gebeld, provider ingelicht."
at 2026-11-05T15:45:00+01:00; sdesk --as $B comment $T2 --internal "Provider bevestigt storing op hun APN-cluster, ticket KPN-88213."
at 2026-11-05T15:46:00+01:00
O1=$(announce $B --kind outage --title "Telematica-units melden zich niet aan (storing bij de mobiele provider)" --start 2026-11-05T13:50 --service fleet-telemetry)
sdesk --as $B link $T2 --outage $O1
at 2026-11-05T15:50:00+01:00; sdesk --as $B announce resolve $O1 --note "De provider heeft zijn APN-cluster hersteld; de units melden zich sinds 15:40 weer aan."
at 2026-11-05T16:00:00+01:00; sdesk --as $B log $T2 2h --note "Storing geanalyseerd, provider ingelicht en opgevolgd."
at 2026-11-06T12:00:00+01:00; sdesk --as $B log $T2 6h --note "Nazorg: alle 41 units één voor één gecontroleerd en opnieuw geregistreerd."

at 2026-11-09T10:30:00+01:00
T3=$(newt $L --type service-request --customer fod-digitaal --requester lotte.maes@fod-dt.example --title "Nieuwe redacteur toevoegen aan het publieksportaal" --site 4711 --url https://portaal.fod-dt.example --description "Graag een redacteursaccount voor Jens Wouters (jens.wouters@fod-dt.example).")
at 2026-11-09T11:00:00+01:00; sdesk --as $L update $T3 --status waiting-for-customer --assignee $L --note "Site 4711 heeft al drie redacteurs."
at 2026-11-09T11:01:00+01:00; sdesk --as $L comment $T3 "Site 4711 heeft al drie redacteurs, het maximum per site. Welke redacteur mag het account van Jens vervangen?"
at 2026-11-10T16:20:00+01:00; sdesk --as $L comment $T3 --from-customer "Telefonisch: het account van Marc De Wit mag weg, hij is vertrokken."
at 2026-11-12T09:00:00+01:00; sdesk --as $L update $T3 --status waiting-for-customer --note "Account Marc De Wit verwijderd, account Jens aangemaakt; bevestiging gevraagd."
at 2026-11-12T09:05:00+01:00; sdesk --as $L log $T3 45m --note "Account Marc De Wit verwijderd, account Jens aangemaakt."

at 2026-11-10T08:15:00+01:00
T4=$(newt $A --type question --customer brightwave --requester olivia.hughes@brightwave.example --title "How do we export the monthly care report to PDF?" --impact individual --urgency low --description "The export button is greyed out for our team leads.")
at 2026-11-10T09:20:00+01:00; sdesk --as $A comment $T4 "The export needs the 'report reader' role. I have sent the steps by mail."
at 2026-11-10T09:21:00+01:00; sdesk --as $A close $T4 --resolution "Explained the 'report reader' role needed for PDF export."
at 2026-11-10T09:22:00+01:00; sdesk --as $A log $T4 20m --note "Explained the report reader role by mail."
at 2026-11-11T08:30:00+01:00; sdesk --as $A survey $T4 3 --comment "Fine, but the role should have been in the manual."

at 2026-11-12T16:40:00+01:00
T5=$(newt $B --type change --customer zonnebloem --requester tom.claeys@zonnebloem.example --title "Koppeling met nieuw apotheeksysteem" --impact department --urgency medium --product medication --site 2101 --category interface --override "Verlenging onderhoud Medicatiemodule bevestigd door accountmanager, factuur volgt" --description "Campus Brugge stapt op 1 januari over naar een nieuwe apotheekleverancier. De medicatiekoppeling moet mee.")
at 2026-11-13T09:30:00+01:00; sdesk --as $B update $T5 --status scheduled --assignee $B --note "Ingepland in het onderhoudsvenster van zaterdag 12 december, 20:00."
at 2026-11-13T09:35:00+01:00; announce $B --kind maintenance --title "Medicatiemodule: koppeling met het nieuwe apotheeksysteem" --start 2026-12-12T20:00 --end 2026-12-12T23:00 --customers zonnebloem --service medication >/dev/null

# The nightly sweep (cron in real life): reminders, auto-close, SLA breaches.
at 2026-11-16T07:00:00+01:00; sdesk --as sweep@caresolutions.example sweep

at 2026-11-16T13:05:00+01:00
T6=$(newt $A --type complaint --customer fod-digitaal --requester pieter.janssens@fod-dt.example --title "Reactietermijn van 4 uur opnieuw niet gehaald" --impact department --urgency medium --description "Onze vraag van 12 november kreeg pas na twee werkdagen een antwoord. Graag een gesprek met de servicemanager.")
at 2026-11-16T13:30:00+01:00; sdesk --as $A update $T6 --status in-progress --assignee servicemanager@caresolutions.example --note "Doorgezet naar de servicemanager."

at 2026-11-17T10:00:00+01:00
T7=$(newt $L --type incident --customer vandijk --requester m.devries@vandijk.example --title "Wifi in magazijn Tilburg valt weg" --impact department --urgency medium --product warehouse-network --site 3001 --category network --description "Scanners in hal 3 verliezen om de paar minuten de verbinding.")
at 2026-11-17T10:30:00+01:00; sdesk --as $L update $T7 --status on-hold --assignee $L --note "Wacht op levering vervangende access points door de leverancier van de klant (netwerk valt buiten het contract)."
at 2026-11-17T11:30:00+01:00; sdesk --as $L log $T7 1h --note "Metingen wifi-dekking hal 3 en rapport voor de leverancier."

at 2026-11-19T15:20:00+01:00
T8=$(newt $A --type incident --customer brightwave --requester sam.patel@brightwave.example --title "Login page shows certificate warning" --impact company --urgency medium --site 5001 --url https://care.brightwave.example/login --error-message "NET::ERR_CERT_DATE_INVALID" --description "Since this afternoon every user gets a certificate warning on the login page.")
at 2026-11-19T15:35:00+01:00; sdesk --as $A update $T8 --status in-progress --assignee $A
at 2026-11-19T15:50:00+01:00; sdesk --as $A priority $T8 P1 --reason "All 60 users are blocked; the customer asked to escalate."
at 2026-11-20T10:00:00+01:00; sdesk --as $A update $T8 --status awaiting-acceptance --note "Certificate renewed on the load balancer."
at 2026-11-20T10:01:00+01:00; sdesk --as $A comment $T8 "We renewed the certificate this morning. Can you confirm the warning is gone for everyone?"

at 2026-11-18T07:00:00+01:00; sdesk --as sweep@caresolutions.example sweep

at 2026-11-20T11:45:00+01:00
T9=$(newt $B --type service-request --customer zonnebloem --requester els.vermeulen@zonnebloem.example --title "Opleiding voor nieuwe medewerkers van campus Oostende" --product care-dossier --site 2102 --category training --accept-costs --description "Vijf nieuwe zorgkundigen starten in december. Kunnen jullie een opleiding geven?")

at 2026-11-20T14:10:00+01:00
T13=$(newt $A --type incident --customer zonnebloem --requester sofie.peeters@zonnebloem.example --title "Labelprinter afdeling Duinroos drukt geen polsbandjes af" --impact individual --urgency medium --product care-dossier --site 2102 --category hardware --accept-costs --description "De labelprinter op afdeling Duinroos geeft een papierstoring, ook met een nieuwe rol.")
at 2026-11-20T14:30:00+01:00; sdesk --as $A update $T13 --status waiting-for-customer --assignee $A --note "Hardware: klant gevraagd de leverancier van de printer te contacteren."
at 2026-11-20T14:35:00+01:00; sdesk --as $A log $T13 30m --note "Printer op afstand gediagnosticeerd: papierdoorvoer defect."
at 2026-11-20T16:00:00+01:00; sdesk --as $B log $T9 1h30m --note "Opleidingsplan voor vijf zorgkundigen opgesteld."
at 2026-11-20T16:10:00+01:00; sdesk --as $A log $T8 2h --note "Certificate renewed on the load balancer and checked."

at 2026-11-23T08:00:00+01:00
O2=$(announce $L --kind outage --title "Publieksportaal traag na de update van vrijdag" --start 2026-11-22T18:00 --service web-platform)
at 2026-11-23T08:05:00+01:00
T10=$(newt $L --outage $O2 --cooperation --their-ticket FOD-SD-2026-1187 --their-contact "Karim Haddad" --their-email servicedesk@fod-dt.example --their-impact company --their-urgency high --type incident --customer fod-digitaal --requester nadia.elamrani@fod-dt.example --title "Publieksportaal traag na update" --impact company --urgency medium --site 4711 --url https://portaal.fod-dt.example/nl/nieuws --error-message "Gateway Timeout (504) na 30 s" --description "Sinds de update van vrijdagavond laden de nieuwspagina's meer dan 20 seconden.")

at 2026-11-23T08:40:00+01:00
T11=$(newt $A --type question --customer vandijk --requester j.bakker@vandijk.example --title "Kunnen we de positie-interval van de units instellen?" --impact individual --urgency low --product fleet-telemetry)
at 2026-11-23T08:55:00+01:00; sdesk --as $A update $T11 --status waiting-for-customer --assignee $A --note "Gevraagd voor welke units."
at 2026-11-23T08:56:00+01:00; sdesk --as $A comment $T11 "Voor welke units wilt u het interval aanpassen, en naar hoeveel seconden?"

at 2026-11-23T09:02:00+01:00
T12=$(newt $B --type change --customer brightwave --requester olivia.hughes@brightwave.example --title "Add a second site for the Manchester office" --site 5001 --description "We open a Manchester office on 1 February and need it set up as a site with two editors.")

at 2026-11-23T09:05:00+01:00
T14=$(newt $L --type incident --customer les-tilleuls --requester sophie.lambert@lestilleuls.example --title "Le plan de soins ne s'imprime plus" --impact department --urgency medium --product care-dossier --site 6101 --category application --error-message "Impression interrompue : modèle « plan de soins » introuvable" --description "Depuis ce matin, l'impression du plan de soins reste bloquée pour toute l'unité Les Hêtres. Les autres documents s'impriment normalement.")

at 2026-11-23T09:10:00+01:00
T15=$(newt $A --type service-request --customer st-josef --requester anna.schmitz@stjosef-eupen.example --title "Schulung zum Pflegedossier für neue Pflegekräfte" --product care-dossier --site 7101 --category training --accept-costs --description "Im Januar beginnen vier neue Pflegekräfte. Können Sie für sie eine Schulung zum Pflegedossier anbieten?")

at 2026-11-23T09:20:00+01:00; sdesk --as $L log $T10 1h --note "Trage queries na de update geanalyseerd met de DBA van de klant."
# The call-back service (seed 002) and work on site (seeds 002, 004).
at 2026-11-23T09:12:00+01:00; sdesk --as $A callback $T11 --phone "+31 13 555 0199" --note "Belt liever dan te mailen."
at 2026-11-23T09:24:00+01:00; sdesk --as $A call $T11 --note "Teruggebeld: het interval is per unit in te stellen in het portaal; stappen uitgelegd."
at 2026-11-23T09:26:00+01:00; sdesk --as $L log $T7 1h30m --on 2026-11-20 --on-site --note "Ter plaatse in hal 3: dekking gemeten, access points gemarkeerd voor vervanging."
at 2026-11-23T09:27:00+01:00; sdesk --as $L callback $T14 --phone "+32 81 22 33 44" --note "Madame Lambert préfère être rappelée."
at 2026-11-23T09:30:00+01:00; sdesk --as sweep@caresolutions.example sweep
