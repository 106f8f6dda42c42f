"""What the generated tickets say: titles, descriptions and history texts, in Dutch and English.

The benchmark's desks should read like the example desk (Flemish and Dutch
care and logistics customers, one English one), with accents, typographic
dashes and the odd emoji, so that parsing and searching cost what they cost
on a real desk. Placeholders such as ``{unit}`` are filled in per ticket so
that texts vary.
"""

from __future__ import annotations

# One subject per product and language: (title, category or None, description).
SUBJECTS: dict[str, dict[str, list[tuple[str, str | None, str]]]] = {
    "care-dossier": {
        "nl": [
            (
                "Zorgdossier opent niet – fout bij aanmelden",
                "application",
                "Sinds vanochtend krijgt {person} een foutmelding bij het aanmelden op afdeling {unit}.",
            ),
            (
                "Bewonersdossier {number} toont geen zorgplan",
                "data",
                "Het zorgplan van bewoner {number} is leeg, gisteren stond het er nog.\nAndere dossiers werken wel.",
            ),
            (
                "Overdracht nachtdienst {unit} wordt niet bewaard",
                "application",
                "Bij het bewaren van de overdracht blijft het scherm hangen; na 30 s verschijnt een time-out.",
            ),
            (
                "Vraag: rapport valincidenten per afdeling exporteren",
                None,
                "De kwaliteitscoördinator wil de valincidenten van {unit} per maand in Excel.",
            ),
            (
                "Nieuwe gebruiker aanmaken voor {person}",
                None,
                "{person} start maandag op afdeling {unit} en heeft een account met rol zorgkundige nodig.",
            ),
            (
                "Zorgdossier erg traag op campus – wachten bij elke klik 🐢",
                "application",
                "Elke klik in het zorgdossier duurt 5 à 10 seconden, op alle pc's van {unit}.",
            ),
            (
                "Wondzorgfoto's worden niet geüpload",
                "application",
                "Foto's van de tablet komen niet in het dossier van bewoner {number}; de upload blijft op 99 %.",
            ),
            (
                "Wijziging: extra veld 'voorkeur ritueel' in het opnameformulier",
                "customisation",
                "De pastorale dienst wil bij opname de voorkeuren voor rituelen noteren.",
            ),
            (
                "Opleiding zorgdossier voor nieuwe medewerkers",
                "training",
                "Drie nieuwe verpleegkundigen op {unit} hebben een opleiding nodig.",
            ),
            (
                "Labelprinter {unit} drukt geen polsbandjes af",
                "hardware",
                "De labelprinter geeft een papierstoring, ook met een nieuwe rol.",
            ),
            (
                "Wachtwoord vergeten – account geblokkeerd",
                "user-error",
                "{person} heeft drie keer een fout wachtwoord ingegeven en kan niet meer aanmelden.",
            ),
        ],
        "en": [
            (
                "Care plan export to PDF fails",
                "application",
                "Exporting the care plan of resident {number} stops with 'Unexpected error'.",
            ),
            (
                "How do we add a new team lead role?",
                None,
                "{person} needs to approve care plans for {unit}; which role should we give her?",
            ),
            (
                "Login page shows certificate warning",
                "application",
                "Since this morning every user on {unit} gets a certificate warning on the login page.",
            ),
            (
                "Handover notes missing after night shift 😕",
                "data",
                "The night shift's handover notes for {unit} are not visible to the day shift.",
            ),
            (
                "Request: monthly report of incidents per ward",
                None,
                "Our quality manager would like the incident report for {unit} every month.",
            ),
        ],
    },
    "medication": {
        "nl": [
            (
                "Medicatieronde loopt vast bij aftekenen 😟",
                "application",
                "Bij het aftekenen van de ochtendronde op {unit} loopt de module vast.",
            ),
            (
                "Koppeling met apotheek stuurt geen bestellingen door",
                "interface",
                "Sinds gisteren komen de bestellingen van {unit} niet meer bij de apotheek aan.",
            ),
            (
                "Toedieningslijst toont medicatie van vorige week",
                "data",
                "De lijst van bewoner {number} toont nog de gestopte antibiotica.",
            ),
        ],
    },
    "web-platform": {
        "nl": [
            (
                "Publieksportaal traag na update",
                "application",
                "Sinds de update laden de nieuwspagina's meer dan 20 seconden.",
            ),
            (
                "Formulier 'adreswijziging' geeft fout 500",
                "application",
                "Burgers krijgen een foutpagina na het verzenden van het formulier (referentie {number}).",
            ),
            (
                "Nieuwe rubriek 'Energiepremies' toevoegen",
                None,
                "De communicatiedienst wil een rubriek met drie onderliggende pagina's.",
            ),
            (
                "Zoekfunctie vindt geen pagina's met é of ë",
                "application",
                "Zoeken op 'premiën' of 'coöperatie' geeft geen resultaten, zonder accenten wel.",
            ),
            (
                "Intranet: nieuwsbrief wordt dubbel verstuurd",
                "interface",
                "De interne nieuwsbrief van week {number} kwam twee keer binnen bij alle medewerkers.",
            ),
            (
                "Klacht: reactietermijn niet gehaald",
                None,
                "Onze vraag van vorige week kreeg pas na twee werkdagen een antwoord.",
            ),
        ],
    },
    "fleet-telemetry": {
        "nl": [
            (
                "Telematica-units DC {unit} melden zich niet meer aan 🚚",
                "interface",
                "Sinds {hour} sturen {count} trekkers geen posities meer door. Planning rijdt blind.",
            ),
            (
                "Dashboard toont verkeerde kilometerstand voor trekker {number}",
                "data",
                "De kilometerstand springt terug naar nul na elke rit.",
            ),
            (
                "Nieuwe trailers koppelen aan het platform",
                None,
                "Er komen {count} nieuwe trailers bij in DC {unit}; graag de units registreren.",
            ),
            (
                "Temperatuuralarm koelwagen blijft afgaan",
                "application",
                "Koelwagen {number} meldt elke 5 minuten een alarm terwijl de temperatuur correct is.",
            ),
        ],
    },
    "warehouse-network": {
        "nl": [
            (
                "Wifi in magazijn {unit} valt weg",
                "network",
                "Scanners in hal {count} verliezen om de paar minuten de verbinding.",
            ),
            (
                "VPN naar DC {unit} traag sinds maandag",
                "network",
                "Het WMS reageert traag vanaf het hoofdkantoor; ping is 400 ms.",
            ),
            (
                "Extra access point voor laadperron {count}",
                "network",
                "Aan laadperron {count} is er geen dekking; graag een extra access point.",
            ),
        ],
    },
}

# Placeholders: the units (wards, distribution centres, services) by customer, people by language.
UNITS = {
    "zonnebloem": ["Duinroos", "Zeemeeuw", "Kamperfoelie", "Klaproos", "Vlinder", "Zonnedauw"],
    "vandijk": ["Tilburg", "Venlo"],
    "fod-digitaal": ["Communicatie", "Personeelsdienst", "Juridische dienst"],
    "brightwave": ["Ward A", "Ward B", "Rose Wing", "Day Care", "North House"],
}
PEOPLE = {
    "nl": ["Ine De Clercq", "Jens Goossens", "Fien Verhaeghe", "Noor Willems", "Loïc Dubois", "Zoë Maes"],
    "en": ["Grace Evans", "Amir Khan", "Chloé Martin", "Tom O'Neill"],
}

PICKUP = {
    "nl": ["Opgepakt.", "Opgepakt, logbestanden opgevraagd.", "Opgepakt; klant gebeld.", "In behandeling genomen."],
    "en": ["Picked up.", "Picked up, asked for the logs.", "Picked up; called the customer."],
}
PUBLIC = {
    "nl": [
        "Kunt u een schermafdruk van de foutmelding sturen?",
        "We hebben een aanpassing uitgerold; kunt u het opnieuw proberen?",
        "We onderzoeken het probleem en houden u op de hoogte.",
        "De oorzaak is gevonden: een verlopen certificaat. We vervangen het vandaag nog.",
        "Welke bewoners of gebruikers zijn precies getroffen?",
    ],
    "en": [
        "Could you send a screenshot of the error?",
        "We have deployed a fix; could you try again?",
        "We are looking into it and will keep you posted.",
    ],
}
INTERNAL = {
    "nl": [
        "Waarschijnlijk DNS.",
        "Zelfde patroon als vorige week op campus Brugge.",
        "Leverancier gecontacteerd, referentie volgt.",
        "Log toont time-outs naar de databank tussen 09:02 en 09:17.",
        "Doorgesproken met Bram, hij neemt de analyse over ☕",
    ],
    "en": ["Probably DNS.", "Same pattern as last week.", "Supplier contacted, reference to follow."],
}
CUSTOMER = {
    "nl": [
        "Schermafdruk in bijlage 📎",
        "Het probleem doet zich nog steeds voor, ook na herstarten.",
        "Het werkt weer, dank u! 👍",
        "Alleen op de pc's van de verpleegpost, de tablets werken wel.",
    ],
    "en": ["Screenshot attached 📎", "Still happening after a restart.", "Works again, thank you! 👍"],
}
WAITING = {
    "nl": ["Wacht op een schermafdruk van de klant.", "Wacht op bevestiging van de klant."],
    "en": ["Waiting for the customer's screenshot.", "Waiting for confirmation from the customer."],
}
PARKED = {
    "on-hold": {
        "nl": ["Wacht op levering door de leverancier.", "In de wacht tot na de verhuis van de afdeling."],
        "en": ["On hold until the supplier delivers.", "On hold until the ward has moved."],
    },
    "scheduled": {
        "nl": ["Ingepland voor het onderhoudsvenster van donderdag 19:00.", "Ingepland in de volgende release."],
        "en": ["Scheduled for Thursday's maintenance window.", "Scheduled for the next release."],
    },
    "awaiting-acceptance": {
        "nl": ["Oplossing staat klaar op de testomgeving; wacht op akkoord.", "Graag uw akkoord om af te sluiten."],
        "en": ["The fix is on the test environment; awaiting your approval.", "Please confirm we may close."],
    },
    "waiting-for-customer": WAITING,
}
RESUMED = {"nl": ["Terug opgepakt.", "Levering ontvangen, we gaan verder."], "en": ["Resumed.", "Back on it."]}
RESOLUTIONS = {
    "nl": [
        "Oorzaak gevonden en verholpen; de klant bevestigt dat het weer werkt.",
        "Configuratie gecorrigeerd en de gegevens opnieuw verwerkt.",
        "Certificaat vernieuwd, aanmelden werkt weer.",
        "Uitgelegd hoe het werkt – vraag beantwoord.",
        "Account ontgrendeld en nieuw wachtwoord ingesteld.",
        "Opgelost met de update van vrijdag; geen meldingen meer sinds maandag.",
    ],
    "en": [
        "Found and fixed the cause; the customer confirms it works again.",
        "Renewed the certificate; login works again.",
        "Explained how it works – question answered.",
    ],
}
TIME_NOTES = {
    "nl": ["Analyse en opvolging.", "Logbestanden nagekeken.", "Telefonisch overleg met de klant.", "Fix getest."],
    "en": ["Analysis and follow-up.", "Checked the logs.", "Call with the customer.", "Tested the fix."],
}
REOPEN_REASONS = {"nl": ["Het probleem is terug.", "Klant meldt dat het opnieuw misloopt."], "en": ["It came back."]}
PRIORITY_REASONS = {
    "nl": ["Heel de afdeling ligt stil.", "Klant vraagt escalatie via de directie."],
    "en": ["The whole ward is blocked.", "Escalated by the customer's management."],
}
SURVEY_REMARKS = {
    "nl": ["Snel en duidelijk opgelost, dank u.", "Duurde wat lang.", "Top service 🙌", None],
    "en": ["Quick and clear, thanks.", "Took a while.", None],
}
