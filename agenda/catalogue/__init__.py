"""The service catalogue's pages (issue 12; docs/services.md): the catalogue, each service's
page with its figures, and the forms, which write through stakeholders/catalogue.py."""
