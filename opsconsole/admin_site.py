from django.contrib import admin


class OpsConsoleAdminSite(admin.AdminSite):
    site_header = "Ops console"
    site_title = "Ops console"
    index_title = "Accounts, exceptions, tickets and gates"
