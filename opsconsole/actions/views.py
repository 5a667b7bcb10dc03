"""The console's action pages: form, then preview, then confirm; reversals; approval decisions.

Every page calls ``run_action`` (or the reversal/approval services), like the API and Celery.
"""

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from opsconsole.actions.forms import action_form_class, split_cleaned
from opsconsole.actions.permissions import permission_problem
from opsconsole.actions.registry import action_label, get_action
from opsconsole.actions.selectors import action_form_url, action_run_get, action_target_by_pk
from opsconsole.actions.services import action_run_reverse, approval_decide, run_action
from opsconsole.errors import ApplicationError
from opsconsole.links import action_run_url, admin_change_url
from opsconsole.models import ActionApproval, ActionRun
from opsconsole.request_id import current_request_id
from opsconsole.runbooks import runbook_for_action


def _load_target(request, action, model_name: str, pk: str):
    if apps.get_model(action.target_model)._meta.model_name != model_name:
        raise Http404("This action does not apply to that kind of object.")
    try:
        return action_target_by_pk(action=action, pk=pk, user=request.user)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc


def _run_link(run: ActionRun):
    return format_html('<a href="{}">action run #{}</a>', action_run_url(run), run.pk)


def announce_outcome(request, run: ActionRun, *, duplicate: bool = False) -> None:
    if duplicate:
        messages.info(request, format_html("Already submitted: {} ({}).", _run_link(run), run.status))
    elif run.status == "awaiting_approval":
        messages.warning(
            request, format_html("{} is waiting for approval: {}", _run_link(run), run.approval.reason)
        )
    elif run.status == "failed":
        messages.error(request, format_html("{} failed: {}", _run_link(run), run.error_message))
    else:
        messages.success(
            request, format_html("{} on {}: {}.", action_label(run.action), run.target_repr, _run_link(run))
        )


def announce_refusal(request, exc: ApplicationError, target=None) -> None:
    run = (
        ActionRun.objects.filter(pk=exc.extra.get("action_run")).first()
        if exc.extra.get("action_run")
        else None
    )
    message = format_html("{}", exc.message)
    if run is not None:
        message = format_html("{} (recorded as {})", exc.message, _run_link(run))
    offer = exc.extra.get("offer")
    if offer and target is not None:
        offered = get_action(offer)
        if permission_problem(request.user, offered, target) is None:
            message = format_html(
                '{} <a class="button" href="{}">{}</a>',
                message,
                action_form_url(offered, target),
                offered.label,
            )
    messages.error(request, message)


def _page(request, admin_site, template, context):
    return TemplateResponse(request, template, {**admin_site.each_context(request), **context})


def action_form_view(request, admin_site, name: str, model_name: str, pk: str):
    try:
        action = get_action(name)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    target = _load_target(request, action, model_name, pk)
    problem = permission_problem(request.user, action, target)
    if problem:
        raise PermissionDenied(problem)
    runbook = runbook_for_action(action, target)
    Form = action_form_class(action, runbook)
    back = admin_change_url(target)
    context = {
        "title": f"{action.label}: {target}",
        "action": action,
        "target": target,
        "runbook": runbook,
        "back_url": back,
    }

    if request.method == "POST" and request.POST.get("preview_token"):
        try:
            outcome = run_action(
                name=action.name,
                target=target,
                actor=request.user,
                preview_token=request.POST["preview_token"],
                entry_point="console",
                request_id=current_request_id(),
            )
        except ApplicationError as exc:
            announce_refusal(request, exc, target)
            return HttpResponseRedirect(request.path if exc.code == "state_changed" else back or request.path)
        announce_outcome(request, outcome.run, duplicate=outcome.duplicate)
        return HttpResponseRedirect(action_run_url(outcome.run))

    form = Form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        params, evidence = split_cleaned(form.cleaned_data)
        try:
            outcome = run_action(
                name=action.name,
                target=target,
                actor=request.user,
                params=params,
                evidence=evidence,
                dry_run=True,
            )
        except ApplicationError as exc:
            for field, errors in exc.extra.items():
                key = f"param_{field}" if f"param_{field}" in form.fields else f"evidence_{field}"
                if key in form.fields:
                    form.add_error(key, errors if isinstance(errors, list) else [str(errors)])
            announce_refusal(request, exc, target)
        else:
            return _page(
                request,
                admin_site,
                "opsconsole/actions/preview.html",
                {
                    **context,
                    "preview": outcome.preview,
                    "preview_token": outcome.preview_token,
                    "title": f"Preview: {action.label} on {target}",
                },
            )
    return _page(request, admin_site, "opsconsole/actions/action_form.html", {**context, "form": form})


def reverse_view(request, admin_site, run_pk: int):
    try:
        run = action_run_get(run_pk, user=request.user)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    if request.method == "POST":
        try:
            outcome = action_run_reverse(
                run=run, actor=request.user, preview_token=request.POST.get("preview_token", "")
            )
        except ApplicationError as exc:
            announce_refusal(request, exc)
            return HttpResponseRedirect(action_run_url(run))
        announce_outcome(request, outcome.run, duplicate=outcome.duplicate)
        return HttpResponseRedirect(action_run_url(outcome.run))
    try:
        outcome = action_run_reverse(run=run, actor=request.user, dry_run=True)
    except ApplicationError as exc:
        announce_refusal(request, exc)
        return HttpResponseRedirect(action_run_url(run))
    return _page(
        request,
        admin_site,
        "opsconsole/actions/preview.html",
        {
            "title": f"Preview: reverse action run #{run.pk}",
            "action": get_action(run.action),
            "preview": outcome.preview,
            "preview_token": outcome.preview_token,
            "back_url": action_run_url(run),
        },
    )


def approval_decide_view(request, admin_site, approval_pk: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    approval = (
        ActionApproval.objects.restrict(request.user).filter(pk=approval_pk).select_related("run").first()
    )
    if approval is None:
        raise Http404("No such approval.")
    approve = request.POST.get("decision") == "approve"
    try:
        approval_decide(
            approval=approval, approve=approve, note=request.POST.get("note", ""), actor=request.user
        )
    except ApplicationError as exc:
        announce_refusal(request, exc)
    else:
        run = ActionRun.objects.get(pk=approval.run_id)
        if approve:
            announce_outcome(request, run)
        else:
            messages.info(request, format_html("Rejected {}.", _run_link(run)))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = action_run_url(approval.run)
    return HttpResponseRedirect(next_url)
