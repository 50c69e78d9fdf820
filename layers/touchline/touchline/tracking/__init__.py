"""The server-side tracking API: Segment / Customer.io Data Pipelines HTTP calls → envelopes.

`POST /v1/{batch,track,identify,page,screen,group,alias}` authenticated by a site's write key.
Each message becomes an `events` row, plus identity links, a people row, and order/refund rows
for e-commerce semantic events; all go through the same queue and loader as browser hits.
"""
