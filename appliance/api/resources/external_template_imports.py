"""``/externaltemplateimports``: a template from an OVA on the host (oVirt's "Import Template
from OVA"): ``<external_template_import><url>ova:///path/t.ova</url><cluster/>
<storage_domain/><template><name>t</name></template></external_template_import>``."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing
from appliance.api.resources.externalvmimports import local_path
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type, ref
from appliance.engine.imports.pipeline import ImportTarget

EXTERNAL_TEMPLATE_IMPORT = Type(
    tag="external_template_import", plural="externaltemplateimports",
    accepted=frozenset(("host", "clone", "comment", "description")),
    description="Import a template from an OVA on the host",
    fields=(
        Field("url", writable=True, get=lambda i: i["url"]),
        Field("cluster", Kind.REF, writable=True, get=lambda i: i["cluster"], ref="clusters"),
        Field("storage_domain", Kind.REF, writable=True, get=lambda i: i["storage_domain"],
              ref="storagedomains"),
        Field("template", Kind.REF, writable=True, get=lambda i: i["template"],
              ref="templates"),
    ),
)


def install(routes: Routes) -> None:
    routes.add("/externaltemplateimports", Operation.ADD, tag="external_template_import",
               summary="Import a template from an OVA on the host")(import_template)


def import_template() -> Response:
    engine = http.engine()
    values = http.read(EXTERNAL_TEMPLATE_IMPORT)
    url = str(values.get("url", ""))
    cluster = listing.resolve(engine.clusters, values.get("cluster"), noun="cluster",
                              default=engine.clusters.default)
    domain = listing.resolve(engine.storage_domains, values.get("storage_domain"),
                             noun="storage domain", default=engine.storage_domains.default)
    wanted: Any = values.get("template") or {}
    target = ImportTarget(cluster_id=cluster.id, storage_domain_id=domain.id,
                          name=str(wanted.get("name") or ""), as_template=True)
    imported = engine.importer.import_ova(local_path(url), target, actor=http.actor())
    node = EXTERNAL_TEMPLATE_IMPORT.render({"url": url, "cluster": cluster.id,
                                            "storage_domain": domain.id,
                                            "template": imported.id})
    node["job"] = ref("jobs", imported.job.id)
    return http.respond(EXTERNAL_TEMPLATE_IMPORT.tag, node, status=201)
