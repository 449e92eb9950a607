"""Every link of the product's navigation, in one place: the site header and footer, the
dashboard's and the admin panel's sidebars. Pages not built yet keep their slot here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    href: str
    icon: str = ""
    # Active also on sub-pages (``/dashboard/settings/security`` for Settings), unless exact.
    exact: bool = False

    def active(self, path: str) -> bool:
        if self.exact or self.href in ("/", "/dashboard", "/admin"):
            return path == self.href
        return path == self.href or path.startswith(self.href.rstrip("/") + "/")


@dataclass(frozen=True, slots=True)
class FooterColumn:
    title: str
    links: tuple[Link, ...]


SITE_NAV: tuple[Link, ...] = (
    Link("Models", "/models"),
    Link("Pricing", "/pricing"),
    Link("Docs", "/docs"),
    Link("API reference", "/reference"),
    Link("Blog", "/blog"),
    Link("Status", "/status"),
)

FOOTER: tuple[FooterColumn, ...] = (
    FooterColumn(
        "Product",
        (
            Link("Models", "/models"),
            Link("Pricing", "/pricing"),
            Link("API Store", "/dashboard"),
            Link("Status", "/status"),
        ),
    ),
    FooterColumn(
        "Developers",
        (
            Link("Documentation", "/docs"),
            Link("API reference", "/reference"),
            Link("API explorer", "/api-docs"),
            Link("SDKs", "/sdks"),
            Link("Tutorials", "/tutorials"),
            Link("llms.txt", "/llms.txt"),
        ),
    ),
    FooterColumn(
        "Company",
        (
            Link("About", "/about"),
            Link("Blog", "/blog"),
            Link("Careers", "/careers"),
            Link("Community", "/community"),
            Link("Press", "/press"),
            Link("Contact", "/contact"),
        ),
    ),
    FooterColumn(
        "Help and legal",
        (
            Link("Help centre", "/help"),
            Link("Terms of service", "/terms"),
            Link("Privacy policy", "/privacy"),
            Link("Data processing", "/dpa"),
            Link("Security", "/security"),
            Link("Compliance", "/compliance"),
            Link("Legal", "/legal"),
        ),
    ),
)

DASHBOARD_NAV: tuple[Link, ...] = (
    Link("API Store", "/dashboard", "store"),
    Link("Playground", "/dashboard/playground", "chat"),
    Link("API keys", "/dashboard/keys", "key"),
    Link("Usage", "/dashboard/usage", "chart"),
    Link("Billing", "/dashboard/billing", "card"),
    Link("Notifications", "/dashboard/notifications", "bell"),
    Link("Settings", "/dashboard/settings", "settings"),
)

ADMIN_NAV: tuple[Link, ...] = (
    Link("Overview", "/admin", "home"),
    Link("Users", "/admin/users", "users"),
    Link("Catalog", "/admin/catalog", "box"),
    Link("Providers", "/admin/providers", "server"),
    Link("Ledger", "/admin/ledger", "book"),
    Link("Payments", "/admin/payments", "card"),
    Link("Usage", "/admin/usage", "chart"),
    Link("Audit log", "/admin/audit", "list"),
    Link("Consistency", "/admin/consistency", "shield-check"),
    Link("Payment providers", "/admin/payment-providers", "plug"),
    Link("API Store", "/admin/store", "store"),
)

SETTINGS_TABS: tuple[Link, ...] = (
    Link("Profile", "/dashboard/settings", exact=True),
    Link("Security", "/dashboard/settings/security"),
    Link("Sessions", "/dashboard/settings/sessions"),
)
