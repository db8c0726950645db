"""English irregular verbs: each form -> the verb's other forms, so that "Who wrote it?" also
finds "the book was written by" (Snowball stems "wrote" and "written" apart). A table, not a
rule: these forms share no ending a stemmer could strip. Verbs whose forms are as often other
words are left out (find/found, grind/ground, wind/wound, lie/lay)."""

from __future__ import annotations

# base past participle; "/" separates alternatives.
_VERBS = """
arise arose arisen; awake awoke awoken; bear bore borne/born; beat beat beaten;
become became become; begin began begun; bend bent bent; bet bet bet; bind bound bound;
bite bit bitten; bleed bled bled; blow blew blown; break broke broken; breed bred bred;
bring brought brought; build built built; burn burnt/burned burnt/burned; buy bought bought;
catch caught caught; choose chose chosen; come came come; cost cost cost; creep crept crept;
deal dealt dealt; dig dug dug; do did done; draw drew drawn; dream dreamt/dreamed dreamt;
drink drank drunk; drive drove driven; eat ate eaten; fall fell fallen; feed fed fed;
feel felt felt; fight fought fought; flee fled fled; fly flew flown; forbid forbade forbidden;
forget forgot forgotten; forgive forgave forgiven; freeze froze frozen; get got gotten/got;
give gave given; go went gone; grow grew grown; hang hung hung; have had had; hear heard heard;
hide hid hidden; hold held held; keep kept kept; know knew known; lead led led; leave left left;
lend lent lent; lose lost lost; make made made; mean meant meant; meet met met; pay paid paid;
ride rode ridden; ring rang rung; rise rose risen; run ran run; say said said; see saw seen;
seek sought sought; sell sold sold; send sent sent; shake shook shaken; shine shone shone;
shoot shot shot; show showed shown; shrink shrank shrunk; sing sang sung; sink sank sunk;
sit sat sat; sleep slept slept; slide slid slid; speak spoke spoken; spend spent spent;
spin spun spun; spread spread spread; spring sprang sprung; stand stood stood; steal stole stolen;
stick stuck stuck; sting stung stung; strike struck struck/stricken; strive strove striven;
swear swore sworn; sweep swept swept; swim swam swum; swing swung swung; take took taken;
teach taught taught; tear tore torn; tell told told; think thought thought; throw threw thrown;
tread trod trodden; undergo underwent undergone; understand understood understood;
undertake undertook undertaken; wake woke woken; wear wore worn; weave wove woven;
weep wept wept; win won won; withdraw withdrew withdrawn; write wrote written;
overcome overcame overcome; overtake overtook overtaken; overthrow overthrew overthrown;
withhold withheld withheld; withstand withstood withstood; uphold upheld upheld;
foresee foresaw foreseen; forsake forsook forsaken; mislead misled misled;
"""


def _table() -> dict[str, tuple[str, ...]]:
    out: dict[str, set[str]] = {}
    for entry in _VERBS.split(";"):
        forms = {f for column in entry.split() for f in column.split("/")}
        for form in forms:
            out.setdefault(form, set()).update(forms - {form})
    return {form: tuple(sorted(others)) for form, others in out.items()}


OTHER_FORMS: dict[str, tuple[str, ...]] = _table()
