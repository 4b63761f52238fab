"""The generator's vocabulary and model parameters.

Code lists (sources, channels, directions, event types, topics, products) with
their integer codes, the identifier bits an event carries, the contact-channel
escalation chain and the parameters of the planted phenomena (ingestion lag,
CRM regression, friction hotspot, campaign, churn hazards).
"""
from __future__ import annotations

import numpy as np

SEC = 1_000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR

BLOCK_CUSTOMERS = 5_000  # fixed: output must not depend on the number of blocks

SOURCES = ["crm", "web", "app", "support", "marketing", "commerce", "survey"]
CRM, WEB_S, APP_S, SUPPORT, MARKETING, COMMERCE, SURVEY = range(7)
CHANNELS = ["web", "app", "email", "chat", "phone", "sms", "social", "store"]
WEB, APP, EMAIL, CHAT, PHONE, SMS, SOCIAL, STORE = range(8)
DIRECTIONS = ["inbound", "outbound"]
IN, OUT = 0, 1
TYPES = ["page_view", "session_start", "login", "contact", "resolution", "transfer",
         "repeat_info", "reauth", "message", "purchase", "survey", "signup", "churn", "identify"]
(PAGE_VIEW, SESSION_START, LOGIN, CONTACT, RESOLUTION, TRANSFER, REPEAT_INFO, REAUTH,
 MESSAGE, PURCHASE, SURVEY_T, SIGNUP, CHURN, IDENTIFY) = range(14)
TOPICS = ["billing", "order", "delivery", "account", "tech", "complaint"]
TOPIC_P = np.array([0.22, 0.18, 0.2, 0.14, 0.14, 0.12])
COMPLAINT = 5
PRODUCTS = ["fiber-500", "mobile-unlimited", "tv-plus", "router-x", "smartwatch", "device-care"]
PRODUCT_P = np.array([0.3, 0.22, 0.14, 0.14, 0.12, 0.08])
PRODUCT_PRICE = np.array([49.0, 35.0, 25.0, 129.0, 249.0, 9.0])
FIELDS = ["account_number", "address", "order_id", "issue_description", "date_of_birth"]
CAMPAIGN = "autumn-sale"
CAMPAIGN_PRODUCT = 0  # fiber-500, the best seller

# identifier bits
ID_CID, ID_ANON, ID_EMAIL, ID_PHONE, ID_EMAIL_RAW, ID_PHONE_RAW = 1, 2, 4, 8, 16, 32

# contact channels and their escalation chain (rows: from; cols: to; last col = stop)
CONTACT_CH = np.array([CHAT, PHONE, EMAIL, SOCIAL, STORE])
FIRST_CONTACT_P = np.array([0.42, 0.26, 0.18, 0.09, 0.05])
NEXT_CONTACT_P = {  # probabilities over CONTACT_CH (no self loops)
    CHAT: [0.0, 0.75, 0.15, 0.0, 0.10],
    PHONE: [0.30, 0.0, 0.45, 0.05, 0.20],
    EMAIL: [0.30, 0.60, 0.0, 0.0, 0.10],
    SOCIAL: [0.55, 0.25, 0.20, 0.0, 0.0],
    STORE: [0.10, 0.70, 0.20, 0.0, 0.0],
}
FRICTIONLESS_HOTSPOT = 0.35
FRICTIONLESS_OTHER = 0.85

# ingestion lag per source: (median seconds, lognormal sigma)
LAG = {CRM: (45.0, 0.8), WEB_S: (1.5, 0.9), APP_S: (3.0, 1.1), SUPPORT: (75.0, 0.9),
       MARKETING: (150.0, 0.7), COMMERCE: (4.0, 0.7), SURVEY: (3600.0, 0.8)}
CRM_FACTOR = 4.0
NEGATIVE_LAG_SHARE = 0.003
CHURN_HAZARD_SEAMLESS = 0.004  # per day after the landmark
CHURN_HAZARD_RATIO = 2.5
LANDMARK_DAYS = 30

COLUMNS = ["event_id", "occurred_at", "ingested_at", "source", "channel", "direction", "type",
           "customer_id", "anonymous_id", "email", "phone", "topic", "case_id", "attrs"]
