"""Reference data the demo draws from: names, places, products, stores, domains, junk identifiers."""

from __future__ import annotations

FIRST_NAMES = (
    "james mary john patricia robert jennifer michael linda william elizabeth david barbara richard "
    "susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty "
    "anthony margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle "
    "kenneth carol kevin amanda brian dorothy george melissa timothy deborah ronald stephanie jason "
    "rebecca edward sharon jeffrey laura ryan cynthia jacob kathleen gary amy nicholas angela eric "
    "shirley jonathan anna stephen brenda larry pamela justin emma scott nicole brandon helen benjamin "
    "samantha samuel katherine gregory christine alexander debra frank rachel patrick carolyn raymond "
    "janet jack maria dennis olivia jerry heather tyler diane aaron julie jose joyce adam victoria"
).split()
LAST_NAMES = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez "
    "wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark "
    "ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams "
    "nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker "
    "cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper "
    "peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood james "
    "bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez"
).split()
US_CITIES = (
    ("New York", "212"),
    ("Los Angeles", "213"),
    ("Chicago", "312"),
    ("Houston", "713"),
    ("Phoenix", "602"),
    ("Philadelphia", "215"),
    ("San Antonio", "210"),
    ("San Diego", "619"),
    ("Dallas", "214"),
    ("Austin", "512"),
    ("Seattle", "206"),
    ("Denver", "303"),
    ("Boston", "617"),
    ("Atlanta", "404"),
    ("Miami", "305"),
    ("Portland", "503"),
    ("Minneapolis", "612"),
    ("Nashville", "615"),
)
GB_CITIES = ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol")
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "proton.me")
WORK_DOMAINS = ("acme-corp.com", "globex.com", "initech.com", "umbrella.io", "hooli.com", "stark.co")

CATEGORIES = {
    "apparel": ("Linen Shirt", "Denim Jacket", "Wool Sweater", "Chino Pants", "Rain Coat", "Cotton Tee"),
    "shoes": ("Trail Runner", "Leather Boot", "Canvas Sneaker", "Sandal"),
    "home": ("Ceramic Mug", "Throw Blanket", "Scented Candle", "Linen Napkins", "Cutting Board"),
    "beauty": ("Face Serum", "Hand Cream", "Lip Balm", "Shampoo Bar"),
    "accessories": ("Leather Belt", "Tote Bag", "Beanie", "Sunglasses", "Wallet"),
}
PRODUCTS = tuple(
    (f"SKU-{1000 + i * 7}", name, category)
    for i, (category, name) in enumerate((c, n) for c, names in CATEGORIES.items() for n in names)
)

COUPONS = (("WELCOME10", 0.10), ("SPRING15", 0.15), ("VIP20", 0.20), ("FREESHIP", 0.05))

STORES = tuple((f"ST{i + 1:03d}", f"+1{area}555{100 + i:04d}") for i, (_, area) in enumerate(US_CITIES[:12]))
SMS_SENDER = "+18885550142"

TEST_EMAIL = "test@example.com"
NO_EMAIL = "noemail@none.com"

ORGANIC_REFERRERS = ("https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/")
REFERRAL_SITES = (
    "https://www.thewirecutter.example/best-gifts",
    "https://blog.stylenotes.example/spring-picks",
    "https://www.reddit.com/r/BuyItForLife/",
    "https://www.pinterest.com/",
)
SITE = "https://shop.mercator-demo.com"
PAGES = ("/", "/new", "/sale", "/collections/apparel", "/collections/home", "/collections/shoes")
