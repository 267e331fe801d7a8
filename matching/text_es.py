"""The Spanish half of the text model's words (matching/text.py reads them): stopwords, the
thesaurus in Spanish, and the English words that must keep their English reading."""

# Spanish -----------------------------------------------------------------------------------------
# Written with accents as people write them; accents are dropped (fold) and the words stemmed at import.

STOPWORDS_ES = frozenset("""
a al ante con contra de del desde en entre hacia hasta para por segun sin sobre tras durante mediante
el la los las lo le les un una unos unas uno y e o u ni que qué quien quién cual cuál cuales donde dónde
cuando cuándo como cómo porque pues si sí no ya muy mas más menos tan tanto pero sino aunque también tambien
yo tu tú el él ella ellos ellas nosotros nosotras usted ustedes ud uds me te se nos os mi mis mí tus su sus
nuestro nuestra nuestros nuestras mío mía suyo suya este esta esto estos estas ese esa eso esos esas aquel
aquí aqui ahí alli allí allá aca acá
soy eres es somos son estoy estás está estamos están estar ser sea fue fui era hay haber he ha han hemos
tengo tiene tienen tenemos tener tenga hace hacer hago puedo puede pueden podemos poder podría podrían pueda puedan
quiero quiere queremos querer quería queria queríamos quisiera quisiéramos gustaría gustaria voy va vamos van ir
necesito necesita necesitamos necesitan necesitar necesitaría necesitaria necesidad necesidades nesesito nececito
nesecito nesesita nesecita ocupo ocupa ocupamos
busco busca buscamos buscan buscando buscar ayuda ayudar ayudas ayudarme ayudarnos ayude ayuden ayúdenme ayudenme
ayudo ayudamos ayudando apoyo favor porfa porfavor xfa gracias hola alguien algo algún alguna alguno algunos
algunas cualquier otro otra otros otras mismo misma todo toda todos todas cada poco poca pocos pocas mucho mucha
muchos muchas bastante solo sólo bien bueno buena buenos buenas buen mal mejor peor gran grande nuevo nueva
nuevos nuevas nada nadie cerca lejos través traves gusto hecho
ofrezco ofrece ofrecemos ofrecen ofrecer ofreciendo doy da damos dan dar regalo regala regalamos regalar
disponible disponibles gratis gratuito gratuita extra cosa cosas
hoy mañana manana ayer tarde tardes noche noches día dia días dias semana semanas semanal mes meses año ano años
anos fin vez veces hora horas rato pronto ahora luego antes después despues siempre nunca próximo proximo próxima
proxima lunes martes miércoles miercoles jueves viernes sábado sabado domingo
dos tres cuatro cinco recién recien
""".split())

# concept -> Spanish words that mean it (the same concepts as THESAURUS). Mexican, Caribbean and
# Central American wording and the Spanglish of US posts ("raite", "lonche", "troca") included.
THESAURUS_ES = {
    "ride": "viaje viajes viajar aventón aventones raite raites jalón transporte transportación transportar "
            "llevar llevarme llevarnos llevarla llevarlo lleve llevo llevamos carro carros coche auto automóvil "
            "camioneta troca manejar manejo conducir conductor conductora chofer chófer traslado trasladar "
            "recoger recogerme recogida taxi uber",
    "medical": "médico médica médicos medicina medicinas medicamento medicamentos clínica clínicas doctor doctora "
               "doctores cita citas consulta consultorio hospital dentista dental odontólogo salud terapia "
               "fisioterapia diálisis quimioterapia receta recetas farmacia enfermera enfermero chequeo pediatra "
               "urgencias vacuna copago visita",
    "work": "trabajo trabajos trabajar empleo empleos entrevista entrevistas turno chamba chambear "
            "carrera oficina fábrica laboral puesto",
    "meeting": "reunión reuniones junta juntas grupo grupos círculo aa na alcohólicos anónimos recuperación",
    "errand": "mandado mandados encargo encargos diligencia diligencias trámite trámites compras comprar "
              "supermercado súper tienda tiendas mercado marketa farmacia despensa",
    "grocery": "despensa abarrotes víveres comida alimentos alimento mercado supermercado marketa caja cajas "
               "bolsa bolsas mandado pan",
    "meal": "comida comidas comer cena cenas almuerzo almuerzos desayuno desayunos caliente calientes casera "
            "casero caseras caseros preparada preparadas  guisado guiso sopa sopas caldo "
            "porción porciones platillo platillos lonche comedor",
    "produce": "verdura verduras vegetales fruta frutas huerto huerta granja fresco fresca frescos frescas "
               "legumbres hortalizas cosecha",
    "baby": "bebé bebés bebito bebita fórmula pañal pañales nacido nacida lactante biberón biberones mamila "
            "mamilas toallitas",
    "resume": "currículum curriculum currículo curriculo currículums cv hoja solicitud solicitudes solicitar "
              "carta cartas",
    "computer": "computadora computadoras computador computación laptop portátil correo correos "
                "electrónico email internet celular teléfono móvil tableta tecnología técnico digital "
                "impresora wifi zoom",
    "budget": "presupuesto presupuestos presupuestar dinero finanzas financiero financiera financieras "
              "administrar administración ahorro ahorros ahorrar cuentas deuda deudas gastos gasto crédito "
              "impuestos manejar",
    "garden": "jardín jardinería planta plantas plantar sembrar siembra semilla semillas cultivar cultivo "
              "huerto huerta macetas verdura verduras",
    "sew": "coser costura costurera costurero remendar remiendo zurcir arreglar arreglo arreglos reparar "
           "reparación dobladillo bastilla sastre ropa",
    "cook": "cocinar cocina cocinero cocinera chef receta recetas nutrición saludable saludables hornear "
            "repostería",
    "rent": "renta rentas rentar alquiler arriendo casero casera arrendador dueño desalojo desahucio vivienda "
            "apartamento departamento depa hipoteca",
    "utility": "luz electricidad eléctrica eléctrico calefacción calentador calor gas agua servicios "
               "recibo recibos",
    "recovery": "recuperación sobrio sobria sobriedad adicción adicciones padrino madrina alcoholismo "
                "alcohólicos anónimos drogas rehabilitación rehab mentor mentora",
    "grief": "duelo luto pérdida perdí perder perdimos fallecido fallecida fallecimiento murió muerte viuda "
             "viudo querido querida queridos tristeza",
    "parent": "padre padres madre madres mamá mamás papá papás mama papa hijo hija hijos hijas niño niña "
              "niños niñas soltera soltero crianza criar maternidad paternidad",
    "furniture": "mueble muebles base cama camas colchón colchones cómoda tocador ropero armario mesa mesas silla "
                 "sillas sofá sillón escritorio litera literas buró comedor",
    "winter": "invierno abrigo abrigos chamarra chamarras chaqueta chaquetas botas guantes gorro gorros gorra "
              "bufanda bufandas frío nieve suéter suéteres sudadera sudaderas cobija cobijas manta mantas",
    "kitchenware": "cocina olla ollas sartén sartenes plato platos traste trastes utensilios cubiertos vaso vasos "
                   "taza tazas vajilla cucharas tenedores cuchillos cacerola licuadora",
    "lesson": "clase clases taller talleres curso cursos tutoría tutor tutora enseñar enseño enseñanza "
              "aprender aprendo lección lecciones maestro maestra profesor profesora entrenamiento",
}

# English thesaurus words that mean something else in Spanish: in a Spanish text, the Spanish meaning.
FALSE_FRIENDS = frozenset({"pan"})

# English words the Spanish tables would read otherwise, which no word list has (places, short forms):
# "El Paso", "Tu" (Tuesday), "see ya", "rec center", "a la carte", tomato cultivars.
ENGLISH_AMBIGUOUS = frozenset("el tu ya te gran rec carte cultivar cultivars electro".split())
# English words that take their Spanish reading in English texts too, on purpose ("curriculum" vitae).
SPANISH_ON_PURPOSE = frozenset({"curriculum", "curriculums"})

# English words whose tokens the Spanish tables would change, or which would make a text Spanish: in a
# text that is not Spanish they keep their English tokens. They are what english_lookalikes() finds
# among the words of Debian's English word lists (wamerican, and those of wamerican-large that are not
# Spanish words of wspanish), and ENGLISH_AMBIGUOUS. Whenever THESAURUS_ES or STOPWORDS_ES changes, make
# them again with `python -m tests.matching.test_spanish` (its test checks them where those lists are).
ENGLISH_LOOKALIKES = frozenset("""
administrable administrates administration ague al alcohol alcoholics alcoholism aliment alimented aliments
anon ante antes apprehended auto automobile automobiled automobiles autos base based baser bases bashes basho
basses basso bassos bastille beebe beeves bot bur buran burro burros cajan calder calefaction calories cam
camass came camoes carr carrara cart carted carter cartes cen centares chamber circular cit cite cited cites
clashes clinically com coma comas come comer comes commodores como compares computation con conduce conduced
conduces conductor conductors conductress consult consulted consults cos cosher credit creditable credited
creditor creditors cried crier cries cubiculum cultivates curricula curricular curs curse cursed curses da dan
de del dep deposed deposes dialysis digital digitalis diligent domingo dos drogue drogues duel dueled dueler
durante electron electronica ella en ensnares era es fabric favor fin fresco frescoes frescos fri friar fried
frier fries gases grandee gratis guise guises gusto ha haber han hay hbase he horn horne horned huber huerta
ir junta juntas juntos karoo kaross karroo kosher la lactates las le les lo los lute lutes luz madras madrases
madrid madronas maestro maestros mam mama mamas mamma mammas mandan mande mandean mandes mantes market
marketable marketed marketeer marketer marquesas mas medicament medicinally mercado merced mercer mes mesa
mesas mi mia mobil mobiles naca ni nieves nina nine nines nos odontology officinal os padre padres pane paned
panes pap papa papas papen paper plat plato processor professor professors pronto queerer reaves recuperation
rehab rehabilitation rem reparation reunion reunions rope roped roper ropes sardines sarto scilla scillas se
sea senna sheena si sill sin solicit solicited solicitor solicitude solo son sop soy suet sup super supper
tall taller tan tardiness tasha taxi taxied taxies taxis tazza terrapins turn turned turner tutorial tutorials
un va van vas vase vases verdure verdured visitable wifi yo zoom zoomed
""".split()) | ENGLISH_AMBIGUOUS
