"""A synthetic crm_mon document of any size, in Pacemaker 2.1.5's shape."""

from __future__ import annotations


def crm_mon_xml(nodes: int, resources: int) -> bytes:
    names = [f"node{i:02d}" for i in range(1, nodes + 1)]
    node_xml = "".join(
        f'<node name="{n}" id="{i}" online="true" standby="false" standby_onfail="false" '
        f'maintenance="false" pending="false" unclean="false" health="green" shutdown="false" '
        f'expected_up="true" is_dc="{str(i == 1).lower()}" resources_running="1" type="member"/>'
        for i, n in enumerate(names, 1)
    )
    res = []
    for r in range(resources):
        node = names[r % nodes]
        res.append(
            f'<resource id="rsc{r}" resource_agent="ocf:pacemaker:Dummy" role="Started" '
            f'active="true" orphaned="false" blocked="false" managed="true" failed="false" '
            f'failure_ignored="false" nodes_running_on="1"><node name="{node}" id="1" '
            f'cached="true"/></resource>'
        )
    failures = "".join(
        f'<failure op_key="rsc{r}_monitor_10000" node="{names[r % nodes]}" exitstatus="not '
        f'running" exitreason="" exitcode="7" call="9" status="complete" last-rc-change='
        f'"2026-11-25 00:00:00Z" queued="0" exec="1" interval="10000" task="monitor"/>'
        for r in range(0, resources, 100)
    )
    return (
        '<pacemaker-result api-version="2.25" request="crm_mon --output-as=xml">'
        '<summary><stack type="corosync"/><current_dc present="true" version="2.1.5" '
        f'name="{names[0]}" id="1" with_quorum="true"/><last_update time="now"/>'
        f'<nodes_configured number="{nodes}"/><resources_configured number="{resources}" '
        'disabled="0" blocked="0"/><cluster_options stonith-enabled="true" '
        'maintenance-mode="false"/></summary>'
        f"<nodes>{node_xml}</nodes><resources>{''.join(res)}</resources>"
        f'<failures>{failures}</failures><status code="0" message="OK"/></pacemaker-result>'
    ).encode()
