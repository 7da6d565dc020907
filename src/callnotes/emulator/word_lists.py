"""Word lists for the generated data set (people, companies, roles, workloads)."""

from __future__ import annotations

import random

FIRST_NAMES = (
    "Alex",
    "Priya",
    "Jordan",
    "Mei",
    "Carlos",
    "Fatima",
    "Liam",
    "Sofia",
    "Noah",
    "Aisha",
    "Ethan",
    "Chloé",
    "Mateo",
    "Yuki",
    "Olivia",
    "Rahul",
    "Emma",
    "Kwame",
    "Zoë",
    "Lucas",
    "Ingrid",
    "Omar",
    "Hannah",
    "Diego",
    "Sven",
    "Nadia",
    "Tomás",
    "Grace",
    "Wei",
    "Amara",
    "Björn",
    "Leila",
    "Marcus",
    "Anya",
    "Samuel",
    "Rosa",
)
LAST_NAMES = (
    "Nguyen",
    "Patel",
    "Smith",
    "García",
    "Kim",
    "O'Connor",
    "Müller",
    "Rossi",
    "Johnson",
    "Okafor",
    "Chen",
    "Kowalski",
    "Haddad",
    "Larsen",
    "Silva",
    "Tanaka",
    "Brown",
    "Novak",
    "Ibrahim",
    "Dubois",
    "Schmidt",
    "Andersson",
    "Moreno",
    "Walker",
    "Singh",
    "Yamamoto",
    "Fischer",
    "Lopez",
    "Murphy",
    "Costa",
)
USER_TITLES = ("Account Executive", "Specialist", "Solution Engineer", "Cloud Solution Architect", "Manager")

# Among the demo user's accounts first: quotes, ampersands, hashes and non-ASCII characters.
TRICKY_ACCOUNT_NAMES = (
    "O'Brien & Sons #2",
    "Café Müller",
    "Zoë's Bäckerei GmbH",
    "Smith+Jones (EMEA) 100%",
    "Ångström Labs / Nordics",
    "Łódź Logistics, S.A.",
    "東京 Trading K.K.",
)
_COMPANY_HEADS = (
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Tailspin",
    "Wingtip",
    "Adventure Works",
    "Litware",
    "Proseware",
    "Woodgrove",
    "Fourth Coffee",
    "Alpine Ski",
    "Coho Winery",
    "Lamna",
    "Margie's Travel",
    "Relecloud",
    "Trey Research",
    "VanArsdel",
    "Wide World",
    "Blue Yonder",
    "Humongous",
    "Graphic Design",
    "Southridge",
)
_COMPANY_TAILS = (
    "Inc.",
    "LLC",
    "Health",
    "Bank",
    "Manufacturing",
    "Retail",
    "Logistics",
    "Energy",
    "Foods",
    "Insurance",
    "Pharma",
    "Media",
    "Group",
    "Partners",
    "Systems",
    "Motors",
    "Airlines",
    "Hotels",
)


def company_name(rng: random.Random, index: int) -> str:
    return f"{rng.choice(_COMPANY_HEADS)} {rng.choice(_COMPANY_TAILS)} {index:04d}"


REGIONS = (
    ("East", "MAA"),
    ("East", "NEA"),
    ("East", "SEA"),
    ("West", "NWA"),
    ("West", "SWA"),
    ("Central", "NCA"),
)

WORKLOADS = (
    "Azure SQL",
    "AKS",
    "Azure OpenAI",
    "Microsoft Fabric",
    "Azure Virtual Desktop",
    "Azure VMware Solution",
    "App Service",
    "Cosmos DB",
    "Azure Databricks",
    "Microsoft Sentinel",
    "Defender for Cloud",
    "Azure Arc",
)
OPP_KINDS = ("Migration", "Expansion", "Modernization", "Pilot", "Renewal", "New Workload")
MILESTONE_NAMES = (
    "Production deployment",
    "PoC kickoff",
    "Landing zone ready",
    "First workload live",
    "Data migration",
    "Security review",
    "Pilot complete",
    "Go-live",
    "Architecture sign-off",
)
TASK_SUBJECTS = (
    "Technical architecture review call",
    "Design session with platform team",
    "Demo for data team",
    "Follow-up on blockers",
    "Consumption planning",
    "Workshop prep",
    "Executive briefing",
)
COMMENTS = (
    "Customer confirmed budget",
    "Waiting on security approval",
    "Ramp slower than planned",
    "Blocked by quota request",
    "On track for go-live",
    "Partner engaged",
    "Needs exec sponsor",
)

# msx-integration-guide.md "Identifying Sellers vs SEs": sellers carry "Specialists IC".
_SELLER_ROLES = ("Cloud & AI", "Cloud & AI-Acq")


def title_for(role: str) -> str:
    return "Specialists IC" if role in _SELLER_ROLES else "Solution Engineers IC"


# Cloud roles that are not sellers/SEs (the guide: "Without it, you'll also get CSU, CSA, Managers").
CLOUD_OTHER_TITLES = (
    "Specialists Mgr",
    "Cloud Solution Architect",
    "Customer Success Account Mgr",
    "Sales Director",
)
QUALIFIER1_OTHER = ("Area", "Region", "Corporate", "Subsidiary", "Global")
OTHER_ROLES = (
    "Modern Work",
    "Business Applications",
    "Security",
    "Surface",
    "Industry Solutions",
    "Customer Success",
    "Partner",
    "Enterprise Commercial",
    "Field Engineering",
    "CloudOps",
    "Licensing",
    "Digital Sales",
)
OTHER_TITLES = (
    "Account Executive",
    "Area Manager",
    "Customer Success Account Mgr",
    "Partner Development Mgr",
    "Technical Account Mgr",
    "Specialists IC",
    "Inside Sales",
    "Field Engineer",
    "Business Program Mgr",
)
