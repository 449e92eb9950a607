"""Asynchronous video generation.

Submit: validate, hold ``duration × price per second``, hand the job to the first route that
accepts it, answer ``202 {id, status: "queued"}``. A poller in every server process then
follows the upstream task (replicas claim each poll with a compare-and-set on
``next_poll_at``, so one replica polls a job at a time); on success the video is stored and
served by us and the hold is settled, on failure or timeout it is released. Jobs live in the
database, so a restarted server resumes polling them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import select, update

from modelsnest import billing
from modelsnest.auth.caller import Caller
from modelsnest.catalog.pricing import unit_cost
from modelsnest.db.base import utcnow
from modelsnest.db.models import VideoJob
from modelsnest.errors import InvalidRequest, NotFound
from modelsnest.exact_json import dumps, money
from modelsnest.gateway import idempotency
from modelsnest.gateway.admission import Admission
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.gateway.costs import cost_fields, unit_costing
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.pipeline import Bill, Call, Incoming, Modality, Reply
from modelsnest.gateway.service import Gateway
from modelsnest.providers.errors import ProviderError
from modelsnest.providers.media_types import VideoRequest, VideoStatus, VideoTask
from modelsnest.providers.protocol import Provider

log = logging.getLogger(__name__)

MAX_SECONDS = 60
DEFAULT_SECONDS = 5


def _duration(body: dict[str, Any]) -> int:
    name = "duration" if "duration" in body else "duration_seconds"
    value = body.get(name, DEFAULT_SECONDS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SECONDS:
        raise InvalidRequest(f"{name} must be a whole number of seconds from 1 to {MAX_SECONDS}", param=name)
    return value


def parse_video_request(body: dict[str, Any]) -> VideoRequest:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("prompt is required", param="prompt")
    width, height = body.get("width"), body.get("height")
    for name, value in (("width", width), ("height", height)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 64 <= value <= 4096
        ):
            raise InvalidRequest(f"{name} must be an integer from 64 to 4096", param=name)
    image_url = body.get("image_url")
    if image_url is not None and not isinstance(image_url, str):
        raise InvalidRequest("image_url must be a string", param="image_url")
    known = {"model", "prompt", "duration", "duration_seconds", "width", "height", "image_url"}
    return VideoRequest(
        prompt=prompt,
        duration_seconds=_duration(body),
        width=width,
        height=height,
        image_url=image_url,
        extra={k: v for k, v in body.items() if k not in known},
    )


class VideoModality(Modality[VideoRequest, VideoTask]):
    """Submit: hold ``duration × price per second``, hand the job to the first route that
    accepts it, answer ``202 {id, status: "queued"}``; the hold stays open for the job."""

    endpoint = "video"
    keeps_slot = False  # the job outlives this request

    def parse(self, incoming: Incoming) -> tuple[str, VideoRequest]:
        body = parse_json_object(incoming.body)
        slug = require_model(body)
        return slug, parse_video_request(body)

    async def hold(self, call: Call, request: VideoRequest) -> int:
        return unit_cost(call.price, request.duration_seconds)

    def hold_ttl_seconds(self, gateway: Gateway) -> int:
        return gateway.settings.video_timeout_seconds + 3600

    async def invoke(self, adapter: Provider, request: VideoRequest, upstream_model: str) -> VideoTask:
        return await adapter.submit_video(request, upstream_model)

    def bill(self, call: Call, request: VideoRequest, result: VideoTask) -> Bill:
        return Bill(unit_cost(call.price, request.duration_seconds))

    async def answer(
        self, call: Call, request: VideoRequest, result: VideoTask, bill: Bill, served: Served
    ) -> Reply:
        job_id = "vid_" + secrets.token_urlsafe(18)
        out = {
            "id": job_id,
            "object": "video.generation",
            "status": "queued",
            "model": call.model.slug,
            "created": int(time.time()),
            "duration_seconds": request.duration_seconds,
            "estimated_cost_usd": money(bill.cost_nanos),
        }
        return Reply(dumps(out), status=202)

    async def park(
        self,
        call: Call,
        admission: Admission,
        request: VideoRequest,
        result: VideoTask,
        served: Served,
        reply: Reply,
        claim: idempotency.Claim | None,
    ) -> Reply:
        """The job row (with the hold) and the stored answer of an idempotent submit, in one
        transaction: a retried submit finds the job, never a second hold."""
        gateway = call.gateway
        job = orjson.loads(reply.body)
        now = utcnow()
        costing, meter = unit_costing(call.price, request.duration_seconds, "video_seconds")
        # What the usage row will record when the job settles: the admission's price version.
        priced = {"price_version_id": call.price.version_id, **cost_fields(costing, meter, served)}
        async with gateway.sessions.begin() as session:
            session.add(
                VideoJob(
                    id=job["id"],
                    user_id=call.caller.user_id,
                    api_token_id=call.caller.key_id,
                    model_slug=call.model.slug,
                    provider_name=served.provider_name,
                    upstream_model=served.upstream_model,
                    upstream_task_id=result.task_id,
                    status="queued",
                    progress=0,
                    duration_seconds=request.duration_seconds,
                    request={
                        "prompt": request.prompt,
                        "request_id": call.request_id,
                        "origin": call.caller.origin,
                        "priced": priced,
                    },
                    hold_id=admission.hold_id,
                    cost_nanos=costing.cost_nanos,
                    next_poll_at=now + timedelta(seconds=gateway.settings.video_poll_seconds),
                    created_at=now,
                    updated_at=now,
                )
            )
            if claim is not None:
                await idempotency.complete_in(
                    session, claim, reply.status, reply.body, reply.media_type, reply.headers
                )
        return reply


VIDEO = VideoModality()


def job_json(job: VideoJob, public_base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": job.id,
        "object": "video.generation",
        "status": job.status,
        "progress": job.progress,
        "model": job.model_slug,
        "created": int(job.created_at.timestamp()),
        "duration_seconds": job.duration_seconds,
    }
    if job.status == "succeeded" and job.file_id:
        out["video_url"] = f"{public_base}/files/{job.file_id}"
        out["billing"] = {
            "cost_usd": money(job.cost_nanos or 0),
            "billed_quantity": job.duration_seconds,
            "billed_unit": "second",
        }
    if job.status == "failed":
        out["error"] = {"code": job.error_code, "message": job.error_message}
    return out


async def get_job(gateway: Gateway, caller: Caller, job_id: str, public_base: str) -> bytes:
    async with gateway.sessions() as session:
        job = (
            await session.execute(
                select(VideoJob).where(VideoJob.id == job_id, VideoJob.user_id == caller.user_id)
            )
        ).scalar_one_or_none()
    if job is None:  # another user's job reads as unknown
        raise NotFound(f"no video generation with id '{job_id}'", code="VIDEO_NOT_FOUND", param="id")
    return dumps(job_json(job, public_base))


_PRICED_FIELDS = ("price_version_id", "cost_breakdown", "upstream_cost_nanos", "upstream_price_version_id")


def _usage(job: VideoJob, *, charged: bool, **fields: Any) -> billing.UsageRecord:
    """The job's usage row; a charged one records how it was priced at submission."""
    request_id = (job.request or {}).get("request_id") or job.id
    priced = (job.request or {}).get("priced") or {}
    names = _PRICED_FIELDS if charged else _PRICED_FIELDS[:1]
    fields.update({name: priced[name] for name in names if priced.get(name) is not None})
    return billing.UsageRecord(
        request_id=request_id,
        user_id=job.user_id,
        api_token_id=job.api_token_id,
        endpoint=VideoModality.endpoint,
        model_slug=job.model_slug,
        origin=(job.request or {}).get("origin") or "api",
        provider_name=job.provider_name,
        upstream_model=job.upstream_model,
        **fields,
    )


async def _finish_job(
    gateway: Gateway, job: VideoJob, status: VideoStatus, *, error_code: str = "VIDEO_FAILED"
) -> None:
    now = utcnow()
    assert job.hold_id is not None
    if status.state == "succeeded" and status.video:
        stored = await gateway.media.save(
            job.user_id, status.video, status.content_type or "video/mp4", "video"
        )
        await billing.settle(
            gateway.sessions,
            hold_id=job.hold_id,
            cost_nanos=job.cost_nanos or 0,
            usage=_usage(
                job,
                charged=True,
                units=job.duration_seconds,
                unit_type="second",
                status="success",
                http_status=200,
                latency_ms=int((now - job.created_at).total_seconds() * 1000),
            ),
        )
        values: dict[str, Any] = {
            "status": "succeeded",
            "progress": 100,
            "file_id": stored.id,
            "finished_at": now,
        }
    else:
        message = status.error or "the upstream returned no video"
        await billing.release(
            gateway.sessions,
            hold_id=job.hold_id,
            usage=_usage(
                job,
                charged=False,
                status="error",
                http_status=502,
                error_code=error_code,
                error_message=message[:500],
            ),
        )
        values = {
            "status": "failed",
            "error_code": error_code,
            "error_message": message[:500],
            "finished_at": now,
            "cost_nanos": 0,
        }
    async with gateway.sessions.begin() as session:
        await session.execute(update(VideoJob).where(VideoJob.id == job.id).values(updated_at=now, **values))


async def poll_once(gateway: Gateway) -> int:
    """Advance every due job this process manages to claim. Returns how many it polled."""
    now = utcnow()
    async with gateway.sessions() as session:
        due = list(
            (
                await session.execute(
                    select(VideoJob)
                    .where(VideoJob.status.in_(("queued", "running")), VideoJob.next_poll_at <= now)
                    .order_by(VideoJob.next_poll_at)
                    .limit(20)
                )
            ).scalars()
        )
    polled = 0
    snapshot = await gateway.catalog.get()
    for job in due:
        async with gateway.sessions.begin() as session:
            claimed = await session.execute(
                update(VideoJob)
                .where(VideoJob.id == job.id, VideoJob.next_poll_at == job.next_poll_at)
                .values(next_poll_at=now + timedelta(seconds=gateway.settings.video_poll_seconds))
            )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another replica took it
        polled += 1
        if (now - job.created_at).total_seconds() > gateway.settings.video_timeout_seconds:
            timeout = VideoStatus(state="failed", error="the video did not finish in time")
            await _finish_job(gateway, job, timeout, error_code="VIDEO_TIMEOUT")
            continue
        model = snapshot.models.get(job.model_slug)
        route = next(
            (r for r in (model.routes if model else ()) if r.provider.name == job.provider_name), None
        )
        if route is None or job.upstream_task_id is None:
            await _finish_job(
                gateway, job, VideoStatus(state="failed", error="the provider of this job is gone")
            )
            continue
        try:
            status = await gateway.pool.get(route.provider).poll_video(
                job.upstream_task_id, job.upstream_model or ""
            )
        except ProviderError as exc:
            log.warning("polling video %s failed (will retry): %s", job.id, exc.message)
            continue
        if status.state in ("succeeded", "failed"):
            await _finish_job(gateway, job, status)
        else:
            async with gateway.sessions.begin() as session:
                await session.execute(
                    update(VideoJob)
                    .where(VideoJob.id == job.id)
                    .values(
                        status=status.state, progress=max(0, min(99, status.progress)), updated_at=utcnow()
                    )
                )
    return polled


async def run_video_poller(gateway: Gateway) -> None:
    while True:
        try:
            await poll_once(gateway)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("video poller round failed")
        await asyncio.sleep(max(0.2, gateway.settings.video_poll_seconds / 2))
