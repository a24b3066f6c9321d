//! Names, offices, departments and job titles for the simulated company: several
//! languages, accents included, so search and rendering meet real-world text.

/// People of one country office.
pub struct Culture {
    pub office: &'static str,
    pub phone_prefix: &'static str,
    pub given_names: &'static [&'static str],
    /// Surnames as men bear them.
    pub surnames: &'static [&'static str],
    /// Where a woman's surname takes a form of its own (Kowalska, Nováková).
    pub feminine_surnames: Option<FeminineSurnames>,
}

/// How a culture makes a woman's surname.
pub struct FeminineSurnames {
    /// The given names of women.
    pub women: &'static [&'static str],
    /// A surname's feminine form.
    pub form: fn(&str) -> String,
}

impl Culture {
    /// The surname `given` bears: the feminine form for a woman where there is one.
    pub fn surname_of(&self, given: &str, surname: &str) -> String {
        match &self.feminine_surnames {
            Some(feminine) if feminine.women.contains(&given) => (feminine.form)(surname),
            _ => surname.to_owned(),
        }
    }
}

/// Polish: adjectival surnames end in -ska, -cka, -dzka for women (Kowalski,
/// Kowalska); nouns (Nowak, Król) do not change.
fn polish_feminine(surname: &str) -> String {
    match surname.strip_suffix('i') {
        Some(stem) if stem.ends_with("sk") || stem.ends_with("ck") || stem.ends_with("dzk") => {
            format!("{stem}a")
        }
        _ => surname.to_owned(),
    }
}

/// Czech: adjectival surnames end in -á (Novotný, Novotná), the rest take -ová,
/// dropping a final -a (Svobodová) or the -e- of -ec (Němcová).
fn czech_feminine(surname: &str) -> String {
    if let Some(stem) = surname.strip_suffix('ý') {
        format!("{stem}á")
    } else if let Some(stem) = surname.strip_suffix('a') {
        format!("{stem}ová")
    } else if let Some(stem) = surname.strip_suffix("ec") {
        format!("{stem}cová")
    } else {
        format!("{surname}ová")
    }
}

pub const CULTURES: &[Culture] = &[
    Culture {
        office: "Milan",
        phone_prefix: "+39 02 5550",
        given_names: &[
            "Anna",
            "Marco",
            "Giulia",
            "Luca",
            "Francesca",
            "Matteo",
            "Chiara",
            "Alessandro",
            "Sofia",
            "Lorenzo",
            "Niccolò",
            "Elena",
            "Davide",
            "Martina",
        ],
        surnames: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Fabbrì",
        ],
        feminine_surnames: None,
    },
    Culture {
        office: "Madrid",
        phone_prefix: "+34 91 555",
        given_names: &[
            "José", "María", "Lucía", "Javier", "Carmen", "Álvaro", "Inés", "Sergio", "Raúl",
            "Begoña", "Íñigo", "Pilar", "Andrés", "Núria",
        ],
        surnames: &[
            "García",
            "Fernández",
            "González",
            "Rodríguez",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Martín",
            "Jiménez",
            "Ruiz",
            "Hernández",
            "Muñoz",
            "Álvarez",
            "Castaño",
        ],
        feminine_surnames: None,
    },
    Culture {
        office: "Warsaw",
        phone_prefix: "+48 22 555",
        given_names: &[
            "Łukasz",
            "Małgorzata",
            "Paweł",
            "Agnieszka",
            "Krzysztof",
            "Katarzyna",
            "Michał",
            "Zofia",
            "Grzegorz",
            "Joanna",
            "Wojciech",
            "Żaneta",
            "Jędrzej",
        ],
        surnames: &[
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Woźniak",
            "Dąbrowski",
            "Kozłowski",
            "Jabłoński",
            "Król",
        ],
        feminine_surnames: Some(FeminineSurnames {
            women: &[
                "Małgorzata",
                "Agnieszka",
                "Katarzyna",
                "Zofia",
                "Joanna",
                "Żaneta",
            ],
            form: polish_feminine,
        }),
    },
    Culture {
        office: "Oslo",
        phone_prefix: "+47 22 55",
        given_names: &[
            "Øyvind", "Ingrid", "Bjørn", "Kari", "Håkon", "Solveig", "Lars", "Åse", "Terje",
            "Sigrid", "Jørgen", "Marit",
        ],
        surnames: &[
            "Hansen",
            "Johansen",
            "Olsen",
            "Larsen",
            "Andersen",
            "Pedersen",
            "Nilsen",
            "Kristiansen",
            "Jensen",
            "Karlsen",
            "Bråthen",
            "Sæther",
            "Løvås",
            "Haugen",
        ],
        feminine_surnames: None,
    },
    Culture {
        office: "Berlin",
        phone_prefix: "+49 30 5550",
        given_names: &[
            "Jürgen",
            "Anja",
            "Stefan",
            "Katrin",
            "Matthias",
            "Jörg",
            "Sabine",
            "Tobias",
            "Ute",
            "Maximilian",
            "Lena",
            "Björn",
        ],
        surnames: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Schäfer",
            "Koch",
            "Bauer",
            "Größ",
        ],
        feminine_surnames: None,
    },
    Culture {
        office: "Paris",
        phone_prefix: "+33 1 55 50",
        given_names: &[
            "François",
            "Amélie",
            "Hélène",
            "Jérôme",
            "Céline",
            "Benoît",
            "Élodie",
            "Noël",
            "Chloé",
            "Gaëlle",
            "Théo",
            "Léa",
            "Raphaël",
        ],
        surnames: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau", "Lefèvre", "Girard", "Rousseau", "Fontaine",
        ],
        feminine_surnames: None,
    },
    Culture {
        office: "London",
        phone_prefix: "+44 20 7946",
        given_names: &[
            "Zoë", "James", "Olivia", "Oliver", "Amelia", "Harry", "Isla", "George", "Emily",
            "Jack", "Chloe", "Noah", "Siobhán", "Renée",
        ],
        surnames: &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
            "Patel", "Wright", "Walker", "O'Brien", "Evans", "Khan",
        ],
        feminine_surnames: None,
    },
    Culture {
        office: "Amsterdam",
        phone_prefix: "+31 20 555",
        given_names: &[
            "Daan", "Sanne", "Bram", "Femke", "Joris", "Noor", "Sem", "Anouk", "Thijs", "Eline",
            "Zoë",
        ],
        surnames: &[
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "van Dijk",
            "Bakker",
            "Janssen",
            "Visser",
            "Smit",
            "Meijer",
            "de Boer",
            "Mulder",
        ],
        feminine_surnames: None,
    },
    Culture {
        office: "Lisbon",
        phone_prefix: "+351 21 555",
        given_names: &[
            "João", "Inês", "Gonçalo", "Beatriz", "Tomás", "Mariana", "Simão", "Leonor", "Rodrigo",
            "Matilde",
        ],
        surnames: &[
            "Silva",
            "Santos",
            "Ferreira",
            "Pereira",
            "Oliveira",
            "Costa",
            "Rodrigues",
            "Martins",
            "Jesus",
            "Sousa",
            "Gonçalves",
            "Magalhães",
        ],
        feminine_surnames: None,
    },
    Culture {
        office: "Istanbul",
        phone_prefix: "+90 212 555",
        given_names: &[
            "Ayşe", "Mehmet", "Şule", "Ömer", "Gülşen", "Çağlar", "Emine", "Mustafa", "İlkay",
            "Barış",
        ],
        surnames: &[
            "Yılmaz",
            "Kaya",
            "Demir",
            "Şahin",
            "Çelik",
            "Yıldız",
            "Yıldırım",
            "Öztürk",
            "Aydın",
            "Özdemir",
        ],
        feminine_surnames: None,
    },
    Culture {
        office: "Prague",
        phone_prefix: "+420 2 555",
        given_names: &[
            "Jiří",
            "Tereza",
            "Petr",
            "Kateřina",
            "Tomáš",
            "Lucie",
            "Ondřej",
            "Zuzana",
            "Vojtěch",
            "Šárka",
        ],
        surnames: &[
            "Novák",
            "Svoboda",
            "Novotný",
            "Dvořák",
            "Černý",
            "Procházka",
            "Kučera",
            "Veselý",
            "Horák",
            "Němec",
        ],
        feminine_surnames: Some(FeminineSurnames {
            women: &["Tereza", "Kateřina", "Lucie", "Zuzana", "Šárka"],
            form: czech_feminine,
        }),
    },
];

/// Departments and their job titles.
pub const DEPARTMENTS: &[(&str, &[&str])] = &[
    (
        "Sales",
        &[
            "Account Manager",
            "Sales Representative",
            "Key Account Manager",
            "Sales Director",
            "Inside Sales Specialist",
        ],
    ),
    (
        "Customer Service",
        &[
            "Customer Service Agent",
            "Team Leader",
            "Service Desk Analyst",
            "Customer Success Manager",
        ],
    ),
    (
        "Finance",
        &[
            "Accountant",
            "Financial Controller",
            "Payroll Specialist",
            "Chief Financial Officer",
            "Accounts Payable Clerk",
        ],
    ),
    (
        "Human Resources",
        &[
            "HR Business Partner",
            "Recruiter",
            "HR Generalist",
            "Learning & Development Lead",
        ],
    ),
    (
        "Engineering",
        &[
            "Software Engineer",
            "Senior Software Engineer",
            "QA Engineer",
            "Engineering Manager",
            "Site Reliability Engineer",
            "Architect",
        ],
    ),
    (
        "IT",
        &[
            "System Administrator",
            "Network Engineer",
            "IT Support Technician",
            "IT Manager",
            "Security Analyst",
        ],
    ),
    (
        "Marketing",
        &[
            "Marketing Manager",
            "Content Writer",
            "Brand Manager",
            "Digital Marketing Specialist",
            "Event Coordinator",
        ],
    ),
    (
        "Legal",
        &[
            "Legal Counsel",
            "Paralegal",
            "Compliance Officer",
            "General Counsel",
        ],
    ),
    (
        "Operations",
        &[
            "Operations Manager",
            "Logistics Coordinator",
            "Facility Manager",
            "Procurement Specialist",
        ],
    ),
    (
        "Reception",
        &["Receptionist", "Switchboard Operator", "Office Manager"],
    ),
    (
        "Executive Office",
        &[
            "Chief Executive Officer",
            "Executive Assistant",
            "Chief Operating Officer",
        ],
    ),
];

/// Status messages people set.
pub const STATUS_MESSAGES: &[&str] = &[
    "Working from home today",
    "In the Milan office this week",
    "Back at 14:00",
    "Call my mobile if urgent",
    "Heads down on the quarterly report, chat only please",
    "At a customer site until 16:00",
    "Training all day, reachable by chat",
    "On the late shift, 12:00–20:00",
    "Happy to take transfers 🙂",
    "Please send calls to my deputy",
];

pub const EMAIL_DOMAIN: &str = "contoso.com";

#[cfg(test)]
mod tests {
    use super::*;

    fn culture(office: &str) -> &'static Culture {
        CULTURES
            .iter()
            .find(|c| c.office == office)
            .expect("an office")
    }

    #[test]
    fn polish_women_bear_the_feminine_form_of_adjectival_surnames() {
        let warsaw = culture("Warsaw");
        assert_eq!(warsaw.surname_of("Agnieszka", "Kowalski"), "Kowalska");
        assert_eq!(warsaw.surname_of("Zofia", "Wiśniewski"), "Wiśniewska");
        assert_eq!(warsaw.surname_of("Joanna", "Nowak"), "Nowak");
        assert_eq!(warsaw.surname_of("Żaneta", "Król"), "Król");
        assert_eq!(warsaw.surname_of("Paweł", "Kowalski"), "Kowalski");
        assert_eq!(polish_feminine("Nowicki"), "Nowicka");
        assert_eq!(polish_feminine("Zawadzki"), "Zawadzka");
    }

    #[test]
    fn czech_women_bear_the_feminine_form_of_every_surname() {
        let prague = culture("Prague");
        let forms: Vec<String> = prague
            .surnames
            .iter()
            .map(|surname| prague.surname_of("Tereza", surname))
            .collect();
        assert_eq!(
            forms,
            [
                "Nováková",
                "Svobodová",
                "Novotná",
                "Dvořáková",
                "Černá",
                "Procházková",
                "Kučerová",
                "Veselá",
                "Horáková",
                "Němcová",
            ]
        );
        assert_eq!(prague.surname_of("Jiří", "Novák"), "Novák");
    }

    #[test]
    fn every_woman_named_is_a_given_name_of_her_culture() {
        for culture in CULTURES {
            if let Some(feminine) = &culture.feminine_surnames {
                for woman in feminine.women {
                    assert!(culture.given_names.contains(woman), "{woman}");
                }
            }
        }
    }

    #[test]
    fn other_cultures_keep_the_surname() {
        assert_eq!(culture("Milan").surname_of("Anna", "Rossi"), "Rossi");
    }
}
